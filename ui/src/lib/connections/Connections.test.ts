import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { byTestId, cleanup, mountNow, render as renderPage, settle } from '../testing';
import { BackendError, type ConnectionInfo } from '../backend';
import { FakeBackend } from '../backend/fake';
import { demoOverview } from '../backend/fixture';
import Connections from './Connections.svelte';
import { localTime } from '../overview/time';
import { formatSettings, parseSettings } from './settings';

afterEach(cleanup);

const render = (backend: FakeBackend) => renderPage(Connections, { backend });

function type(root: HTMLElement, id: string, value: string) {
  const el = byTestId(root, id) as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
  if (el instanceof HTMLSelectElement) {
    for (const o of Array.from(el.options)) o.selected = o.value === value;
  }
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
  flushSync();
}

describe('settings box', () => {
  it('reads key=value lines, JSON where it is JSON, and says which line is wrong', () => {
    expect(parseSettings('timezone=Europe/Berlin\ntimeout_secs=30\n\n# a comment\nlocations={"A":"B"}')).toEqual({
      ok: true,
      settings: { timezone: 'Europe/Berlin', timeout_secs: 30, locations: { A: 'B' } },
    });
    expect(parseSettings('timezone Europe/Berlin')).toEqual({ ok: false, error: expect.stringContaining('Line 1') });
  });

  it('writes saved settings back as lines that read back the same', () => {
    const settings = {
      timezone: 'Europe/Berlin',
      timeout_secs: 30,
      strict: true,
      code: '0042',
      padded: ' x ',
      empty: '',
      locations: { A: 'B' },
      list: [1, 'two'],
    };
    const text = formatSettings(settings);
    expect(text).toContain('timezone=Europe/Berlin');
    expect(text).toContain('timeout_secs=30');
    expect(parseSettings(text)).toEqual({ ok: true, settings });
    expect(formatSettings({})).toBe('');
  });
});

describe('Connections', () => {
  it('is empty, plainly, and explains the chosen kind', async () => {
    const root = await render(new FakeBackend(demoOverview()));
    expect(byTestId(root, 'connections-empty')?.textContent).toContain('No connections yet');
    type(root, 'kind', 'erpnext');
    expect(byTestId(root, 'kind-help')?.textContent).toContain('api_key:api_secret');
  });

  it('checks, saves, and never shows the secret again', async () => {
    const backend = new FakeBackend(demoOverview());
    const root = await render(backend);
    type(root, 'kind', 'erpnext');
    type(root, 'name', 'Books');
    type(root, 'url', 'https://erp.example.com');
    type(root, 'settings', 'timezone=Europe/Berlin');
    type(root, 'secret', 'k:s3cret');
    (byTestId(root, 'add') as HTMLButtonElement).click();
    await settle();
    expect(backend.added).toEqual([
      [{ kind: 'erpnext', name: 'Books', baseUrl: 'https://erp.example.com', settings: { timezone: 'Europe/Berlin' } }, 'k:s3cret'],
    ]);
    expect(byTestId(root, 'connections-done')?.textContent).toContain('its secret is in the keychain');
    expect(byTestId(root, 'connection-books')?.textContent).toContain('Secret: set');
    expect((byTestId(root, 'secret') as HTMLInputElement).value, 'the field is emptied').toBe('');
    expect(root.textContent).not.toContain('s3cret');
  });

  it("says what the system answered, saves nothing, and drops the typed secret", async () => {
    const backend = new FakeBackend(demoOverview());
    backend.checkFails = new BackendError('auth', 'Books (erpnext) did not answer as expected: ERPNext refused the credentials (401)');
    const root = await render(backend);
    type(root, 'name', 'Books');
    type(root, 'url', 'https://erp.example.com');
    type(root, 'secret', 'wrong');
    (byTestId(root, 'add') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'form-error')?.textContent).toContain('401');
    expect(byTestId(root, 'connection-list')).toBeNull();
    expect((byTestId(root, 'secret') as HTMLInputElement).value).toBe('');
    type(root, 'settings', 'no equals sign');
    type(root, 'secret', 'x');
    (byTestId(root, 'add') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'form-error')?.textContent).toContain('key=value');
  });

  it('in the demo, says a new connection is for real use from the next start', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.target = 'next-start';
    const root = await render(backend);
    expect(byTestId(root, 'demo-notice')?.textContent).toContain('trying the demo');
    type(root, 'name', 'Our Shop');
    type(root, 'url', 'https://shop.example.com');
    type(root, 'secret', 'shpat_x');
    (byTestId(root, 'add') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'connections-done')?.textContent).toContain('from its next start');
    expect(byTestId(root, 'connection-our-shop'), 'not among the demo connections').toBeNull();
  });

  it('tests and removes a saved connection', async () => {
    const backend = new FakeBackend(demoOverview());
    await backend.addConnection({ kind: 'shopify', name: 'Shop', baseUrl: 'https://s.example.com', settings: {} }, 't');
    const root = await render(backend);
    (byTestId(root, 'test-shop') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'connections-done')?.textContent).toContain('Shop answered');
    (byTestId(root, 'remove-shop') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'connections-empty')).not.toBeNull();
  });
});

function saved(over: Partial<ConnectionInfo> & { id: string }): ConnectionInfo {
  return {
    name: over.id,
    kind: 'erpnext',
    role: 'erp',
    baseUrl: `https://${over.id}.example.com`,
    settings: {},
    secretSet: true,
    pausedReason: null,
    pausedByPerson: false,
    credentialsOkAt: null,
    createdAt: '2025-01-01T12:00:00Z',
    ...over,
  };
}

const click = async (root: HTMLElement, id: string) => {
  const el = byTestId(root, id);
  expect(el, `${id} is on the page`).not.toBeNull();
  (el as HTMLElement).click();
  await settle();
};

const value = (root: HTMLElement, id: string) => (byTestId(root, id) as HTMLInputElement | HTMLTextAreaElement).value;

describe('Editing a connection', () => {
  const books = () =>
    saved({ id: 'books', name: 'Books', baseUrl: 'https://erp.example.com', settings: { timezone: 'Europe/Berlin', timeout_secs: 30 } });

  it('opens filled in with what is saved, never the secret', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [books()];
    const root = await render(backend);
    expect(byTestId(root, 'editor')).toBeNull();
    await click(root, 'edit-books');
    expect(byTestId(root, 'editor')).not.toBeNull();
    expect(value(root, 'editor-name')).toBe('Books');
    expect(value(root, 'editor-url')).toBe('https://erp.example.com');
    expect(value(root, 'editor-settings')).toBe('timezone=Europe/Berlin\ntimeout_secs=30');
    const secret = byTestId(root, 'editor-secret') as HTMLInputElement;
    expect(secret.type).toBe('password');
    expect(secret.value).toBe('');
    expect(byTestId(root, 'editor')?.textContent).toContain('leave empty to keep the stored secret');
    expect(byTestId(root, 'editor')?.textContent).toContain('api_key:api_secret');
    expect(document.activeElement, 'the keyboard lands on the first field').toBe(byTestId(root, 'editor-name'));
    await click(root, 'editor-cancel');
    expect(byTestId(root, 'editor')).toBeNull();
    expect(backend.edits).toEqual([]);
  });

  it('saves checked changes and keeps the stored secret when none is typed', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [books()];
    const root = await render(backend);
    await click(root, 'edit-books');
    type(root, 'editor-name', 'Books EU');
    type(root, 'editor-url', 'https://erp-eu.example.com');
    type(root, 'editor-settings', 'timezone=Europe/Paris\ntimeout_secs=60');
    await click(root, 'editor-save');
    expect(backend.edits).toEqual([
      ['books', { name: 'Books EU', baseUrl: 'https://erp-eu.example.com', settings: { timezone: 'Europe/Paris', timeout_secs: 60 } }, null],
    ]);
    expect(byTestId(root, 'editor'), 'the form closes').toBeNull();
    expect(byTestId(root, 'connections-done')?.textContent).toContain('stored secret is kept');
    expect(byTestId(root, 'connection-books')?.textContent).toContain('Books EU');
    expect(byTestId(root, 'url-books')?.textContent).toBe('https://erp-eu.example.com');
  });

  it('passes a typed new secret to the backend only, and never shows it', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [books()];
    const root = await render(backend);
    await click(root, 'edit-books');
    type(root, 'editor-secret', 'k:n3w-s3cret');
    await click(root, 'editor-save');
    expect(backend.edits).toHaveLength(1);
    expect(backend.edits[0][0]).toBe('books');
    expect(backend.edits[0][2]).toBe('k:n3w-s3cret');
    expect(byTestId(root, 'connections-done')?.textContent).toContain('new secret is in the keychain');
    expect(root.textContent).not.toContain('n3w-s3cret');
    await click(root, 'edit-books');
    expect(value(root, 'editor-secret'), 'opened again, the secret field is empty').toBe('');
  });

  it('says what the system answered, keeps the form and changes nothing', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [books()];
    backend.checkFails = new BackendError('auth', 'Books (erpnext) did not answer as expected: ERPNext refused the credentials (401)');
    const root = await render(backend);
    await click(root, 'edit-books');
    type(root, 'editor-name', 'Books EU');
    type(root, 'editor-secret', 'wr0ng-s3cret');
    await click(root, 'editor-save');
    const alert = byTestId(root, 'editor-error');
    expect(alert?.getAttribute('role')).toBe('alert');
    expect(alert?.textContent).toContain('refused the credentials (401)');
    expect(alert?.textContent).toContain('type it again');
    expect(byTestId(root, 'editor'), 'the form stays open').not.toBeNull();
    expect(value(root, 'editor-name'), 'with what was typed').toBe('Books EU');
    expect(value(root, 'editor-url')).toBe('https://erp.example.com');
    expect(value(root, 'editor-secret'), 'but not the secret').toBe('');
    expect(backend.connectionList[0]).toEqual(books());
    expect(byTestId(root, 'connection-books')?.querySelector('strong')?.textContent).toBe('Books');
    expect(byTestId(root, 'connections-done')).toBeNull();
    expect(root.textContent).not.toContain('wr0ng-s3cret');
  });

  it('asks for a name and an address, and readable settings, before asking the system', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [books()];
    const root = await render(backend);
    await click(root, 'edit-books');
    type(root, 'editor-name', '  ');
    await click(root, 'editor-save');
    expect(byTestId(root, 'editor-error')?.textContent).toContain('Name and address');
    type(root, 'editor-name', 'Books');
    type(root, 'editor-settings', 'no equals sign');
    await click(root, 'editor-save');
    expect(byTestId(root, 'editor-error')?.textContent).toContain('key=value');
    expect(backend.edits).toEqual([]);
  });

  it('says that saving resumes a paused connection', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [{ ...books(), pausedReason: 'credentials rejected' }];
    const root = await render(backend);
    await click(root, 'edit-books');
    expect(byTestId(root, 'editor-resumes')?.textContent).toContain('resumes it');
    type(root, 'editor-secret', 'k:fresh');
    await click(root, 'editor-save');
    expect(byTestId(root, 'connections-done')?.textContent).toContain('no longer paused');
    expect(byTestId(root, 'pause-books')?.textContent?.trim()).toBe('Pause');
  });
});

describe('Pausing a connection', () => {
  it('pauses, says who paused it and how to undo it, then resumes', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [saved({ id: 'shop', name: 'Shop', kind: 'shopify', role: 'store' })];
    const root = await render(backend);
    expect(byTestId(root, 'pause-shop')?.textContent?.trim()).toBe('Pause');
    expect(byTestId(root, 'paused-shop')).toBeNull();
    await click(root, 'pause-shop');
    expect(backend.pauseCalls).toEqual([['shop', true]]);
    expect(byTestId(root, 'pause-shop')?.textContent?.trim()).toBe('Resume');
    expect(byTestId(root, 'paused-shop')?.textContent).toBe('Paused: paused by ada at 12:00; press Resume to sync again');
    expect(byTestId(root, 'connections-done')?.textContent).toContain('Shop is paused');
    await click(root, 'pause-shop');
    expect(backend.pauseCalls).toEqual([
      ['shop', true],
      ['shop', false],
    ]);
    expect(byTestId(root, 'pause-shop')?.textContent?.trim()).toBe('Pause');
    expect(byTestId(root, 'paused-shop')).toBeNull();
    expect(byTestId(root, 'connections-done')?.textContent).toContain('Shop is resumed');
  });

  it("offers Resume for Ferry's own pause, and says what to do about it", async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [saved({ id: 'erp', name: 'ERP', pausedReason: 'credentials rejected', pausedByPerson: false })];
    const root = await render(backend);
    const paused = byTestId(root, 'paused-erp');
    expect(paused?.className).toContain('warn');
    expect(paused?.textContent).toContain('Ferry paused it');
    expect(paused?.textContent).toContain('credentials rejected');
    expect(paused?.textContent).toContain('Press Edit to enter a new secret');
    expect(paused?.textContent).toContain('press Test');
    expect(byTestId(root, 'pause-erp')?.textContent?.trim()).toBe('Resume');
    await click(root, 'pause-erp');
    expect(backend.pauseCalls).toEqual([['erp', false]]);
    expect(byTestId(root, 'paused-erp')).toBeNull();
  });

  it('says when the backend does not know the connection any more', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [saved({ id: 'shop' })];
    const root = await render(backend);
    backend.connectionList = [];
    await click(root, 'pause-shop');
    expect(byTestId(root, 'connections-error')?.textContent).toContain('no connection "shop"');
  });
});

describe('Credential health', () => {
  it('says whether a secret is set and when the credentials last worked, never the secret', async () => {
    const backend = new FakeBackend(demoOverview());
    const okAt = '2025-01-01T12:00:00Z';
    backend.connectionList = [
      saved({ id: 'proven', credentialsOkAt: okAt }),
      saved({ id: 'fresh', secretSet: false, credentialsOkAt: null }),
    ];
    const root = await render(backend);
    expect(byTestId(root, 'secret-proven')?.textContent).toContain('Secret: set');
    expect(byTestId(root, 'secret-proven')?.className).not.toContain('warn');
    expect(byTestId(root, 'credentials-proven')?.textContent?.trim()).toBe(
      `Credentials last worked: ${localTime(okAt, '')}`,
    );
    expect(byTestId(root, 'health-proven')?.textContent).toContain('Every scheduled run checks them');

    const missing = byTestId(root, 'secret-fresh');
    expect(missing?.textContent).toContain('Secret: not set');
    expect(missing?.className).toContain('warn');
    expect(byTestId(root, 'credentials-fresh')?.textContent).toContain('not yet proven');
    expect(byTestId(root, 'credentials-fresh')?.textContent).toContain('press Test');
  });

  it("tells what to do when Ferry paused a connection for its settings", async () => {
    const backend = new FakeBackend(demoOverview());
    backend.connectionList = [
      saved({ id: 'erp', pausedReason: 'settings need fixing: timezone is not a time zone', pausedByPerson: false }),
    ];
    const root = await render(backend);
    const paused = byTestId(root, 'paused-erp');
    expect(paused?.textContent).toContain('timezone is not a time zone');
    expect(paused?.textContent).toContain('Press Edit to fix the settings');
  });
});

describe('Start at login', () => {
  const box = (root: HTMLElement) => byTestId(root, 'start-at-login') as HTMLInputElement;

  it('shows what the desktop holds and changes it', async () => {
    const backend = new FakeBackend(demoOverview());
    const root = await render(backend);
    expect(box(root).checked).toBe(false);
    expect(box(root).closest('label')?.textContent).toContain('Start Ferry when I log in (it opens in the tray)');
    box(root).click();
    await settle();
    expect(backend.loginStart).toBe(true);
    expect(box(root).checked).toBe(true);
    box(root).click();
    await settle();
    expect(backend.loginStart).toBe(false);
    expect(box(root).checked).toBe(false);
    expect(byTestId(root, 'start-at-login-error')).toBeNull();
  });

  it('starts checked when Ferry already starts at login', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.loginStart = true;
    const root = await render(backend);
    expect(box(root).checked).toBe(true);
  });

  it('says when the desktop refuses, and puts the box back', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.loginStart = true;
    const root = await render(backend);
    backend.failWith = new BackendError('io', 'cannot change the login items: permission denied');
    box(root).click();
    await settle();
    expect(backend.loginStart).toBe(true);
    expect(box(root).checked, 'the box shows what is really set').toBe(true);
    const error = byTestId(root, 'start-at-login-error');
    expect(error?.getAttribute('role')).toBe('alert');
    expect(error?.textContent).toContain('could not be turned off');
    expect(error?.textContent).toContain('permission denied');
    backend.failWith = null;
    box(root).click();
    await settle();
    expect(backend.loginStart).toBe(false);
    expect(byTestId(root, 'start-at-login-error'), 'the error goes once it works').toBeNull();
  });
});
