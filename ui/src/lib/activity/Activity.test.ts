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

/** The row height the page uses (its `--row`). */
const ROW = 52;

/** Scrolls the list's viewport to `top` pixels (happy-dom has no layout: set it and say so). */
function scrollTo(root: HTMLElement, top: number) {
  const viewport = byTestId(root, 'activity-viewport')!;
  viewport.scrollTop = top;
  viewport.dispatchEvent(new Event('scroll'));
  flushSync();
}

const rendered = (root: HTMLElement) => byTestId(root, 'activity-list')?.querySelectorAll('li').length ?? 0;

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
    const count = () => byTestId(root, 'activity-count')?.textContent ?? '';
    expect(count()).toContain('200 lines');
    expect(byTestId(root, 'event-450')).not.toBeNull();
    (byTestId(root, 'older') as HTMLButtonElement).click();
    await settle();
    expect(backend.activityCalls.at(-1)).toEqual({ beforeId: 251 });
    expect(count()).toContain('400 lines');
    (byTestId(root, 'older') as HTMLButtonElement).click();
    await settle();
    expect(count()).toContain('450 lines');
    expect(byTestId(root, 'older'), 'no more pages').toBeNull();
    // The oldest line is reachable by scrolling to the end.
    scrollTo(root, 450 * ROW);
    expect(byTestId(root, 'event-1')).not.toBeNull();
    expect(byTestId(root, 'event-1')?.getAttribute('aria-setsize')).toBe('450');
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

  it('renders message text as text, never as markup', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = [
      { id: 1, at: '2025-01-01T12:00:00Z', level: 'error', connectionId: 'shop', entity: 'order', key: '<b>1</b>', message: '<img src=x onerror="alert(1)">' },
    ];
    const root = await render(Activity, { backend });
    const list = byTestId(root, 'activity-list')!;
    expect(list.textContent).toContain('<img src=x onerror="alert(1)">');
    expect(list.querySelector('img, b')).toBeNull();
  });
});

describe('Activity, virtualised', () => {
  /** A backend whose journal answers all of `n` lines at once (as if many pages were read). */
  function loaded(n: number): FakeBackend {
    const backend = new FakeBackend(demoOverview());
    const all = events(n).reverse();
    backend.activity = async () => all;
    return backend;
  }

  it('puts only the rows in view (and a few more) in the DOM, however many are loaded', async () => {
    const root = await render(Activity, { backend: loaded(5000), names: { shop: 'Demo Shop', erp: 'Demo ERP' } });
    expect(byTestId(root, 'activity-count')?.textContent).toContain('5000 lines');
    expect(rendered(root)).toBeGreaterThan(10);
    expect(rendered(root)).toBeLessThan(60);
    expect(byTestId(root, 'event-5000'), 'the newest line is at the top').not.toBeNull();
    expect(byTestId(root, 'event-1')).toBeNull();
    // The list is as tall as every row, so the scrollbar is true to the whole journal.
    expect(byTestId(root, 'activity-list')?.style.height).toBe(`${5000 * ROW}px`);
  });

  it('moves the window with the scroll position', async () => {
    const root = await render(Activity, { backend: loaded(5000) });
    scrollTo(root, 2500 * ROW); // the row at index 2500 (id 2500) is at the top of the view
    expect(byTestId(root, 'event-2500')).not.toBeNull();
    expect(byTestId(root, 'event-5000')).toBeNull();
    expect(rendered(root)).toBeLessThan(60);
    const first = byTestId(root, 'activity-list')!.querySelector('li')!;
    const start = Number(first.getAttribute('aria-posinset')) - 1;
    expect(byTestId(root, 'activity-list')?.style.paddingTop).toBe(`${start * ROW}px`);
    scrollTo(root, 5000 * ROW);
    expect(byTestId(root, 'event-1'), 'the end is reachable').not.toBeNull();
  });

  it('reads the next page when scrolled near the bottom, once', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = events(450);
    const root = await render(Activity, { backend });
    expect(backend.activityCalls).toHaveLength(1);
    scrollTo(root, 20 * ROW); // far from the end: nothing read
    await settle();
    expect(backend.activityCalls).toHaveLength(1);
    scrollTo(root, 190 * ROW);
    scrollTo(root, 191 * ROW); // while the page is on its way: not read twice
    await settle();
    expect(backend.activityCalls).toHaveLength(2);
    expect(backend.activityCalls.at(-1)).toEqual({ beforeId: 251 });
    expect(byTestId(root, 'activity-count')?.textContent).toContain('400 lines');
  });

  it('goes back to the top for a new search', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = events(450);
    const root = await render(Activity, { backend });
    scrollTo(root, 100 * ROW);
    expect(byTestId(root, 'event-450')).toBeNull();
    (byTestId(root, 'apply') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'activity-viewport')?.scrollTop).toBe(0);
    expect(byTestId(root, 'event-450')).not.toBeNull();
  });
});

describe('Activity, a record\'s history', () => {
  const names = { shop: 'Demo Shop', erp: 'Demo ERP' };
  function journal(): ActivityEvent[] {
    return [
      { id: 1, at: '2025-01-01T12:00:00Z', level: 'info', connectionId: 'shop', entity: 'order', key: '1021', message: 'Order 1021 read from the store' },
      { id: 2, at: '2025-01-01T12:00:05Z', level: 'info', connectionId: 'shop', entity: 'order', key: '1022', message: 'Order 1022 read from the store' },
      { id: 3, at: '2025-01-01T12:00:10Z', level: 'warn', connectionId: 'erp', entity: 'order', key: '1021', message: 'Sales order SO-77 written for order 1021' },
      { id: 4, at: '2025-01-01T12:00:20Z', level: 'error', connectionId: null, entity: 'order', key: '1021', message: 'Shipment for 1021 held' },
      { id: 5, at: '2025-01-01T12:00:30Z', level: 'info', connectionId: null, entity: null, key: null, message: 'Sync finished' },
    ];
  }
  const panel = (root: HTMLElement) => byTestId(root, 'record-history');

  it('opens from the record key and shows its timeline oldest first, with system names', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = journal();
    const root = await render(Activity, { backend, names });
    expect(byTestId(root, 'history-5'), 'a line about no record has no history button').toBeNull();
    const button = byTestId(root, 'history-3') as HTMLButtonElement;
    expect(button.tagName).toBe('BUTTON');
    expect(button.getAttribute('aria-label')).toBe('History of order 1021');
    expect(button.textContent).toContain('1021');
    button.click();
    await settle();
    const p = panel(root)!;
    expect(p).not.toBeNull();
    expect(p.querySelector('h3')?.textContent).toBe('History of order 1021');
    expect(document.activeElement, 'the panel takes focus').toBe(p);
    const lines = Array.from(p.querySelectorAll('tbody tr'));
    expect(lines.map((l) => l.getAttribute('data-testid'))).toEqual(['history-event-1', 'history-event-3', 'history-event-4']);
    const cells = (i: number) => Array.from(lines[i].querySelectorAll('td')).map((c) => c.textContent);
    expect(cells(0).slice(1)).toEqual(['Demo Shop', 'Info', 'Order 1021 read from the store']);
    expect(cells(1).slice(1)).toEqual(['Demo ERP', 'Warning', 'Sales order SO-77 written for order 1021']);
    expect(cells(2).slice(1)).toEqual(['Ferry', 'Error', 'Shipment for 1021 held']);
    expect(cells(0)[0]).not.toBe('');
  });

  it('says it is loading, then closes with the Close button and gives focus back', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = journal();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const read = backend.recordHistory.bind(backend);
    backend.recordHistory = async (entity, key) => {
      await gate;
      return read(entity, key);
    };
    const root = await render(Activity, { backend, names });
    const button = byTestId(root, 'history-2') as HTMLButtonElement;
    button.click();
    await settle();
    expect(panel(root)?.textContent).toContain('Loading…');
    release();
    await settle();
    expect(panel(root)?.querySelectorAll('tbody tr')).toHaveLength(1);
    (byTestId(root, 'close-history') as HTMLButtonElement).click();
    flushSync();
    expect(panel(root)).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it('closes with Escape', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = journal();
    const root = await render(Activity, { backend, names });
    (byTestId(root, 'history-1') as HTMLButtonElement).click();
    await settle();
    expect(panel(root)).not.toBeNull();
    panel(root)!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    flushSync();
    expect(panel(root)).toBeNull();
    expect(document.activeElement).toBe(byTestId(root, 'history-1'));
  });

  it('reports a failure', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = journal();
    const root = await render(Activity, { backend, names });
    backend.failWith = new BackendError('journal', 'The journal is locked');
    (byTestId(root, 'history-1') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'history-error')?.textContent).toContain('The journal is locked');
    expect(panel(root)?.textContent).not.toContain('Loading…');
  });

  it('says when nothing is recorded about the record', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = journal();
    backend.recordHistory = async () => [];
    const root = await render(Activity, { backend, names });
    (byTestId(root, 'history-1') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'history-empty')?.textContent).toBe('Nothing recorded about this record yet.');
  });

  it('shows the record asked for last when answers cross', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.events = journal();
    let releaseFirst!: () => void;
    const first = new Promise<void>((r) => (releaseFirst = r));
    const read = backend.recordHistory.bind(backend);
    backend.recordHistory = async (entity, key) => {
      if (key === '1021') await first;
      return read(entity, key);
    };
    const root = await render(Activity, { backend, names });
    (byTestId(root, 'history-1') as HTMLButtonElement).click();
    (byTestId(root, 'history-2') as HTMLButtonElement).click();
    await settle();
    releaseFirst();
    await settle();
    expect(panel(root)?.querySelector('h3')?.textContent).toBe('History of order 1022');
    expect(Array.from(panel(root)!.querySelectorAll('tbody tr')).map((l) => l.getAttribute('data-testid'))).toEqual(['history-event-2']);
  });
});
