import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError } from '../backend';
import { FakeBackend } from '../backend/fake';
import { connection, demoOverview } from '../backend/fixture';
import Overview from './Overview.svelte';

let mounted: ReturnType<typeof mount> | null = null;

afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = null;
  document.body.innerHTML = '';
});

/** Mounts the page and lets the first load (listen, then overview) settle. */
async function render(backend: FakeBackend): Promise<HTMLElement> {
  const target = document.createElement('div');
  document.body.appendChild(target);
  mounted = mount(Overview, { target, props: { backend } });
  await settle();
  return target;
}

async function settle() {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
  flushSync();
}

const byTestId = (root: HTMLElement, id: string) => root.querySelector<HTMLElement>(`[data-testid="${id}"]`);

describe('Overview', () => {
  it('shows the totals, the demo badge and one card per connection', async () => {
    const root = await render(new FakeBackend(demoOverview()));

    expect(byTestId(root, 'posted-total')?.textContent, 'the element holds only the number').toBe('0');
    expect(byTestId(root, 'pending-total')?.textContent).toBe('3');
    expect(byTestId(root, 'demo-badge')?.textContent).toBe('Demo');
    expect(byTestId(root, 'card-shop')?.textContent).toContain('Demo Shop');
    expect(byTestId(root, 'card-shop')?.textContent).toContain('Up to date');
    expect(byTestId(root, 'card-shop')?.textContent, 'a connection without failures says so').toContain('No failures');
    expect(byTestId(root, 'card-erp')?.textContent).toContain('Waiting to retry until 12:05');
    expect(byTestId(root, 'card-erp')?.textContent).toContain('ERP answered 503 Service Unavailable');
    expect(byTestId(root, 'card-erp')?.textContent, 'an unscheduled next run is named').toContain('not scheduled');
    expect(byTestId(root, 'card-erp')?.textContent, 'a missing last success is named').toContain('never');
    expect(byTestId(root, 'keychain-notice'), 'the keychain works in this snapshot').toBeNull();
  });

  it('counts parcels, not orders, on a courier card', async () => {
    const overview = demoOverview();
    overview.connections.push(connection({ id: 'courier', name: 'Courier', kind: 'easypost', role: 'courier', ordersPosted: 3 }));
    const root = await render(new FakeBackend(overview));
    const card = byTestId(root, 'card-courier')?.textContent ?? '';
    expect(card).toContain('Parcels');
    expect(card).not.toContain('Posted');
    expect(byTestId(root, 'card-shop')?.textContent).toContain('Posted');
  });

  it('asks to sync everything with a null id, and disables the button meanwhile', async () => {
    const backend = new FakeBackend(demoOverview());
    let release!: () => void;
    backend.syncGate = new Promise((r) => (release = r));
    const root = await render(backend);
    const button = byTestId(root, 'sync-all') as HTMLButtonElement;

    button.click();
    flushSync();
    expect(backend.syncCalls).toEqual([null]);
    expect(button.disabled, 'a second click must not start another sync while one is in flight').toBe(true);

    release();
    await settle();
    expect(button.disabled).toBe(false);
  });

  it('syncs one connection by its id', async () => {
    const backend = new FakeBackend(demoOverview());
    const root = await render(backend);

    byTestId(root, 'sync-erp')?.click();
    await settle();
    expect(backend.syncCalls).toEqual(['erp']);
  });

  it('follows overview events', async () => {
    const backend = new FakeBackend(demoOverview());
    const root = await render(backend);
    expect(backend.listenerCount, 'the page listens for snapshots').toBe(1);

    const next = demoOverview({ generatedAt: '2025-01-01T12:01:00Z' });
    next.totals.ordersPosted = 7;
    backend.emit(next);
    flushSync();

    expect(byTestId(root, 'posted-total')?.textContent).toBe('7');
  });

  it('stops listening when it goes away', async () => {
    const backend = new FakeBackend(demoOverview());
    await render(backend);
    unmount(mounted!);
    mounted = null;
    expect(backend.listenerCount, 'an unmounted page must not keep a listener').toBe(0);
  });

  it('renders hostile names as literal text', async () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const overview = demoOverview({
      connections: [
        connection({
          id: 'evil',
          name: hostile,
          kind: '<b>kind</b>',
          recentFailures: [{ at: '2025-01-01T11:00:00Z', message: `product ${hostile} rejected` }],
        }),
      ],
    });
    const root = await render(new FakeBackend(overview));
    const card = byTestId(root, 'card-evil')!;

    expect(card.textContent).toContain(hostile);
    expect(card.textContent).toContain(`product ${hostile} rejected`);
    expect(card.querySelector('img'), 'markup in data must never become elements').toBeNull();
    expect(card.querySelector('b')).toBeNull();
  });

  it('shows the keychain message when the keychain is unavailable', async () => {
    const message = 'No Secret Service found on the session bus. Passwords are not saved.';
    const root = await render(new FakeBackend(demoOverview({ keychain: { available: false, message } })));

    expect(byTestId(root, 'keychain-notice')?.textContent).toContain(message);
  });

  it('shows backend errors plainly', async () => {
    const backend = new FakeBackend(demoOverview());
    const root = await render(backend);
    backend.failWith = new BackendError('busy', 'A sync is already running.');

    byTestId(root, 'sync-all')?.click();
    await settle();

    const error = byTestId(root, 'error');
    expect(error?.getAttribute('role')).toBe('alert');
    expect(error?.textContent).toContain('A sync is already running.');
    expect(error?.textContent).toContain('busy');
  });

  it('keeps an event newer than the first snapshot that arrives after it', async () => {
    const backend = new FakeBackend(demoOverview());
    const older = demoOverview();
    const newer = demoOverview({ generatedAt: '2025-01-01T12:30:00Z' });
    newer.totals.ordersPosted = 9;
    // The event lands before `overview()` answers with an older snapshot.
    backend.overview = async () => {
      backend.emit(newer);
      return older;
    };
    const root = await render(backend);

    expect(byTestId(root, 'posted-total')?.textContent).toBe('9');
  });
});
