//! The settings box of the connection form: one `key=value` per line. A
//! value that reads as JSON (a number, true, an object) is taken as such,
//! anything else as text — as `ferry connections add --set` does.

export type Parsed = { ok: true; settings: Record<string, unknown> } | { ok: false; error: string };

export function parseSettings(text: string): Parsed {
  const settings: Record<string, unknown> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { ok: false, error: `Line ${i + 1}: write it as key=value, e.g. timezone=Europe/Berlin` };
    const key = line.slice(0, eq).trim();
    const raw = line.slice(eq + 1).trim();
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    settings[key] = value;
  }
  return { ok: true, settings };
}

/**
 * The settings as the box shows them, one `key=value` per line, so that
 * `parseSettings` reads back the same values: a text that would read as
 * JSON (e.g. "30" or "true"), or has spaces at its ends or a line break,
 * is written quoted; anything else that is not text is written as JSON.
 */
export function formatSettings(settings: Record<string, unknown>): string {
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join('\n');
}

function formatValue(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value) ?? 'null';
  if (value !== value.trim() || value.includes('\n') || value.includes('\r')) return JSON.stringify(value);
  try {
    JSON.parse(value);
    return JSON.stringify(value); // would read back as a number, true, an object…: keep it text
  } catch {
    return value;
  }
}

/** Help per kind: the settings each system needs, in plain words. */
export const HELP: Record<string, string> = {
  shopify: 'URL: https://your-shop.myshopify.com. Secret: an Admin API access token (shpat_…).',
  woocommerce: 'URL: your shop’s address. Secret: consumer key and secret as ck_…:cs_….',
  vendure: 'URL: the server’s address. Secret: the administrator’s password. Settings: username=…',
  erpnext:
    'URL: your site. Secret: api_key:api_secret. Settings: timezone=Europe/Berlin, shipping_account=…, tax_account=…',
  odoo: 'URL: your Odoo. Secret: an API key. Settings: database=…, shipping_product=…, tax_product=…',
  tryton: 'URL: your Tryton server. Secret: the user’s password. Settings: database=…, login=…',
  easypost: 'Secret: the API key. Settings: from_name, from_street, from_city, from_postcode, from_country.',
  karrio: 'Secret: the API key (key_…). Settings: from_name, from_street, from_city, from_postcode, from_country.',
};
