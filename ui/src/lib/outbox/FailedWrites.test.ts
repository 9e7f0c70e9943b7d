import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { byTestId, cleanup, render as renderPage, settle } from '../testing';
import App from '../../App.svelte';
import { BackendError } from '../backend';
import { FakeBackend } from '../backend/fake';
import { deadLetter, demoOverview, notification } from '../backend/fixture';
import Notifications from '../notifications/Notifications.svelte';
import FailedWrites from './FailedWrites.svelte';

afterEach(cleanup);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const show = (component: typeof FailedWrites | typeof Notifications, props: Record<string, any>) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  renderPage(component as any, props);

describe('Failed writes', () => {
  it('lists the writes still waiting, with why a retry waits', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.pendingList = [
      { id: 8, targetId: 'erp', entity: 'order', label: 'Order #1030', attempts: 0, nextAttemptAt: '2025-01-01T12:00:00Z', lastError: null },
      { id: 9, targetId: 'erp', entity: 'order', label: 'Order #1031', attempts: 3, nextAttemptAt: '2025-01-01T12:05:00Z', lastError: 'Demo ERP did not answer within 30 s' },
    ];
    const root = await show(FailedWrites, { backend, names: { erp: 'Demo ERP' } });
    expect(byTestId(root, 'pending-8')?.textContent).toContain('not tried yet');
    const retrying = byTestId(root, 'pending-9')?.textContent ?? '';
    expect(retrying).toContain('Order #1031');
    expect(retrying).toContain('Demo ERP');
    expect(retrying).toContain('3 tries, next at');
    expect(retrying).toContain('Last try: Demo ERP did not answer within 30 s');
    expect(byTestId(root, 'outbox-empty')).not.toBeNull();
  });

  it('says when nothing waits', async () => {
    const root = await show(FailedWrites, { backend: new FakeBackend(demoOverview()) });
    expect(byTestId(root, 'pending-empty')?.textContent).toContain('Nothing is waiting');
  });

  it('is empty, plainly', async () => {
    const root = await show(FailedWrites, { backend: new FakeBackend(demoOverview()) });
    expect(byTestId(root, 'outbox-empty')?.textContent).toContain('No failed writes');
  });

  it("shows each failure in the system's own words and replays one", async () => {
    const backend = new FakeBackend(demoOverview());
    backend.deadLetterList = [deadLetter({ id: 3 }), deadLetter({ id: 4, label: 'Stock of MUG-09', entity: 'stock', error: 'SKU MUG-09 is not on any product variant' })];
    const root = await show(FailedWrites, { backend, names: { erp: 'Demo ERP' } });
    const row = byTestId(root, 'dead-3')?.textContent ?? '';
    expect(row).toContain('Order #1021');
    expect(row).toContain('Demo ERP');
    expect(row).toContain('Could not find Item Code: GIFTCARD-50');
    (byTestId(root, 'replay-3') as HTMLButtonElement).click();
    await settle();
    expect(backend.replayCalls).toEqual([3]);
    expect(byTestId(root, 'outbox-done')?.textContent).toContain('1 write queued again');
    expect(byTestId(root, 'dead-3')).toBeNull();
    expect(byTestId(root, 'dead-4')).not.toBeNull();
  });

  it('replays all, and reports a failure', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.deadLetterList = Array.from({ length: 120 }, (_, i) => deadLetter({ id: i + 1 }));
    const root = await show(FailedWrites, { backend });
    expect(byTestId(root, 'dead-letters')?.querySelectorAll('li').length).toBe(120);
    (byTestId(root, 'replay-all') as HTMLButtonElement).click();
    await settle();
    expect(backend.replayCalls).toEqual([null]);
    expect(byTestId(root, 'outbox-empty')).not.toBeNull();
    backend.failWith = new BackendError('journal', 'The journal is busy');
    backend.deadLetterList = [deadLetter({ id: 1 })];
    backend.emit(demoOverview());
    await settle();
    expect(byTestId(root, 'outbox-error')?.textContent).toContain('The journal is busy');
  });
});

describe('Notifications', () => {
  it('lists alerts with what became of them, and opens what they are about', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.notificationList = [
      notification({ id: 2 }),
      notification({ id: 1, kind: 'new_conflict', title: '1 catalog conflict', delivery: 'suppressed', read: true }),
    ];
    let opened: string | null = null;
    const root = await show(Notifications, { backend, names: { erp: 'Demo ERP' }, onopen: (p: string) => (opened = p) });
    expect(byTestId(root, 'alert-2')?.textContent).toContain('Demo ERP');
    expect(byTestId(root, 'alert-1')?.textContent).toContain('held back (a repeat)');
    (byTestId(root, 'unread-only') as HTMLInputElement).click();
    flushSync();
    expect(byTestId(root, 'alert-1'), 'read ones hidden').toBeNull();
    (byTestId(root, 'open-2') as HTMLButtonElement).click();
    await settle();
    expect(opened).toBe('outbox');
    expect(backend.notificationList[0].read, 'opening marks it read').toBe(true);
    expect(byTestId(root, 'notifications-empty')?.textContent).toContain('Nothing unread');
  });

  it('marks all read, and says when there are none', async () => {
    const backend = new FakeBackend(demoOverview());
    const root0 = await show(Notifications, { backend });
    expect(byTestId(root0, 'notifications-empty')?.textContent).toContain('No alerts yet');
    cleanup();
    backend.notificationList = [notification({ id: 1 }), notification({ id: 2 })];
    const root = await show(Notifications, { backend });
    (byTestId(root, 'mark-all-read') as HTMLButtonElement).click();
    await settle();
    expect(backend.notificationList.every((n) => n.read)).toBe(true);
    expect(byTestId(root, 'mark-all-read')).toBeNull();
  });
});

describe('App navigation to failed writes', () => {
  it('badges failed writes and opens the page', async () => {
    const overview = demoOverview();
    overview.totals.failed = 1;
    const backend = new FakeBackend(overview);
    backend.deadLetterList = [deadLetter({ id: 5 })];
    const target = await renderPage(App, { backend });
    expect(byTestId(target, 'failed-badge')?.textContent).toBe('1');
    (byTestId(target, 'nav-outbox') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(target, 'dead-5')).not.toBeNull();
  });
});
