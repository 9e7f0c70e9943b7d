import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { byTestId, cleanup, mountNow, render as renderPage, settle } from '../testing';
import { BackendError } from '../backend';
import { FakeBackend } from '../backend/fake';
import { demoOverview } from '../backend/fixture';
import Connections from './Connections.svelte';
import { parseSettings } from './settings';

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
