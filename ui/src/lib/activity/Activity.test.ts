import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError, type ActivityEvent } from '../backend';
import { FakeBackend } from '../backend/fake';
import { demoOverview } from '../backend/fixture';
import { byTestId, cleanup, render, settle } from '../testing';
import Activity from './Activity.svelte';

afterEach(cleanup);

function events(n: number): ActivityEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    at: '2025-01-01T12:00:00Z',
    level: i % 50 === 0 ? 'error' : 'info',
    connectionId: i % 2 === 0 ? 'erp' : 'shop',
    entity: i % 3 === 0 ? 'stock' : 'order',
    key: i % 3 === 0 ? `MUG-${i}` : `#${1000 + i}`,
    message: i % 3 === 0 ? `Stock of MUG-${i} set` : `Order #${1000 + i} posted`,
  }));
}

function change(root: HTMLElement, id: string, value: string) {
  const el = byTestId(root, id) as HTMLSelectElement | HTMLInputElement;
  if (el instanceof HTMLSelectElement) for (const o of Array.from(el.options)) o.selected = o.value === value;
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
  flushSync();
}

describe('Activity', () => {
  it('shows the newest 200 and reads older pages by id', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = events(450);
    const root = await render(Activity, { backend, names: { shop: 'Demo Shop', erp: 'Demo ERP' } });
    const list = () => byTestId(root, 'activity-list')?.querySelectorAll('li') ?? [];
    expect(list().length).toBe(200);
    expect(byTestId(root, 'event-450')).not.toBeNull();
    (byTestId(root, 'older') as HTMLButtonElement).click();
    await settle();
    expect(backend.activityCalls.at(-1)).toEqual({ beforeId: 251 });
    expect(list().length).toBe(400);
    (byTestId(root, 'older') as HTMLButtonElement).click();
    await settle();
    expect(list().length).toBe(450);
    expect(byTestId(root, 'older'), 'no more pages').toBeNull();
  });

  it('filters by connection, record and level, and searches', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = events(300);
    const root = await render(Activity, { backend, names: { shop: 'Demo Shop', erp: 'Demo ERP' } });
    change(root, 'filter-entity', 'stock');
    await settle();
    expect(backend.activityCalls.at(-1)).toEqual({ entity: 'stock' });
    expect(byTestId(root, 'activity-list')?.textContent).not.toContain('posted');
    change(root, 'filter-level', 'error');
    change(root, 'filter-connection', 'erp');
    await settle();
    expect(backend.activityCalls.at(-1)).toEqual({ entity: 'stock', level: 'error', connectionId: 'erp' });
    change(root, 'filter-entity', '');
    change(root, 'filter-level', '');
    change(root, 'filter-connection', '');
    change(root, 'search', '#1043');
    await settle(); // the filter changes above each started a read; wait for them
    (byTestId(root, 'apply') as HTMLButtonElement).click();
    await settle();
    expect(backend.activityCalls.at(-1)).toEqual({ search: '#1043' });
    expect(byTestId(root, 'activity-list')?.textContent).toContain('Order #1043 posted');
  });

  it('says when nothing matches, and reports a failure', async () => {
    const backend = new FakeBackend(demoOverview());
    const root = await render(Activity, { backend });
    expect(byTestId(root, 'activity-empty')).not.toBeNull();
    backend.failWith = new BackendError('journal', 'The journal is locked');
    (byTestId(root, 'apply') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'activity-error')?.textContent).toContain('The journal is locked');
  });
});
