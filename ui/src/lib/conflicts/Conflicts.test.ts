import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { byTestId, cleanup, mountNow, render as renderPage, settle } from '../testing';
import App from '../../App.svelte';
import { BackendError } from '../backend';
import { FakeBackend } from '../backend/fake';
import { conflict, demoOverview } from '../backend/fixture';
import Conflicts from './Conflicts.svelte';

afterEach(cleanup);

const render = (backend: FakeBackend) => renderPage(Conflicts, { backend, names: { shop: 'Demo Shop', erp: 'Demo ERP' } });

function withConflicts(...list: ReturnType<typeof conflict>[]): FakeBackend {
  const backend = new FakeBackend(demoOverview());
  backend.conflictList = list;
  return backend;
}

function key(k: string) {
  window.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
}

describe('Conflicts', () => {
  it('says plainly when nothing waits', async () => {
    const root = await render(withConflicts());
    expect(byTestId(root, 'conflicts-empty')?.textContent).toContain('No open conflicts');
  });

  it('shows loading first, then the conflict side by side with names', async () => {
    const backend = withConflicts(conflict({ id: 1 }));
    const target = mountNow(Conflicts, { backend, names: { shop: 'Demo Shop', erp: 'Demo ERP' } });
    flushSync();
    expect(target.textContent).toContain('Loading…');
    await settle();
    const detail = byTestId(target, 'conflict-detail')?.textContent ?? '';
    expect(byTestId(target, 'base')?.textContent).toBe('12 EUR');
    expect(byTestId(target, 'store-value')?.textContent).toBe('13.9 EUR');
    expect(byTestId(target, 'erp-value')?.textContent).toBe('14.2 EUR');
    expect(detail).toContain('Demo Shop says');
    expect(detail).toContain('Demo ERP says');
  });

  it('reports a backend failure with a way to try again', async () => {
    const backend = withConflicts(conflict({ id: 1 }));
    backend.failWith = new BackendError('journal', 'The journal could not be read');
    const root = await render(backend);
    expect(byTestId(root, 'conflicts-error')?.textContent).toContain('The journal could not be read');
    backend.failWith = null;
    (byTestId(root, 'conflicts-error')?.querySelector('button') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'conflict-detail')).not.toBeNull();
  });

  it('keeps the ERP value with a reason, then moves to the next conflict', async () => {
    const backend = withConflicts(conflict({ id: 1 }), conflict({ id: 2, key: 'MUG-02', field: 'title' }));
    const root = await render(backend);
    const reason = byTestId(root, 'reason') as HTMLInputElement;
    reason.value = 'supplier list price';
    reason.dispatchEvent(new Event('input', { bubbles: true }));
    (byTestId(root, 'keep-erp') as HTMLButtonElement).click();
    await settle();
    expect(backend.decisions).toEqual([[1, { kind: 'keepErp' }, 'supplier list price']]);
    expect(byTestId(root, 'conflicts-done')?.textContent).toContain("kept Demo ERP's value");
    expect(byTestId(root, 'conflict-detail')?.textContent).toContain('title of MUG-02');
  });

  it('takes a typed value, and shows the backend refusing a bad one', async () => {
    const backend = withConflicts(conflict({ id: 7 }));
    backend.refuseWith = new BackendError('settings', '"abc" is not a price like 12.50');
    const root = await render(backend);
    const input = byTestId(root, 'typed-value') as HTMLInputElement;
    input.value = 'abc';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    flushSync();
    (byTestId(root, 'use-value') as HTMLButtonElement).click();
    await settle();
    expect(backend.decisions).toEqual([[7, { kind: 'value', value: 'abc' }, null]]);
    expect(byTestId(root, 'conflicts-error')?.textContent).toContain('is not a price');
    expect(byTestId(root, 'conflict-detail'), 'still open: nothing was decided').not.toBeNull();
  });

  it('has keyboard shortcuts, which stay quiet while typing', async () => {
    const backend = withConflicts(conflict({ id: 1 }), conflict({ id: 2, key: 'MUG-02' }), conflict({ id: 3, key: 'MUG-03' }));
    const root = await render(backend);
    key('j');
    await settle();
    expect(byTestId(root, 'conflict-detail')?.textContent).toContain('MUG-02');
    key('s');
    await settle();
    expect(backend.decisions).toEqual([[2, { kind: 'keepStore' }, null]]);
    const reason = byTestId(root, 'reason') as HTMLInputElement;
    reason.dispatchEvent(new KeyboardEvent('keydown', { key: 'e', bubbles: true }));
    await settle();
    expect(backend.decisions.length, 'typing an "e" in a field decides nothing').toBe(1);
  });

  it('decides every conflict of a field by policy', async () => {
    const list = [1, 2, 3].map((id) => conflict({ id, key: `SKU-${id}` }));
    const backend = withConflicts(...list, conflict({ id: 9, field: 'title' }));
    const root = await render(backend);
    expect(byTestId(root, 'bulk')?.textContent).toContain('All 3 open price conflicts');
    (byTestId(root, 'bulk-erp') as HTMLButtonElement).click();
    await settle();
    expect(backend.decisions).toEqual([['price', { kind: 'keepErp' }, null]]);
    expect(byTestId(root, 'conflicts-done')?.textContent).toContain('3 price conflicts decided');
    expect(byTestId(root, 'conflict-list')?.textContent).toContain('title');
  });

  it('keeps decided conflicts as history, with who and why', async () => {
    const backend = withConflicts(
      conflict({ id: 4, open: false, resolution: "kept the ERP's value", resolvedBy: 'ada', resolvedAt: '2025-01-01T12:10:00Z', reason: 'list price' }),
    );
    const root = await render(backend);
    (byTestId(root, 'show-history') as HTMLInputElement).click();
    flushSync();
    const history = byTestId(root, 'history')?.textContent ?? '';
    expect(history).toContain("kept the ERP's value");
    expect(history).toContain('ada');
    expect(history).toContain('list price');
  });

  it('shows many conflicts, and product text only as text', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const list = Array.from({ length: 300 }, (_, i) => conflict({ id: i + 1, key: `SKU-${i}` }));
    list[0] = conflict({ id: 1, key: 'MUG-01', field: 'title', storeValue: evil, erpValue: 'Blue Mug' });
    const root = await render(withConflicts(...list));
    expect(byTestId(root, 'conflict-list')?.querySelectorAll('li').length).toBe(300);
    expect(byTestId(root, 'store-value')?.textContent).toBe(evil);
    expect(root.querySelector('img'), 'never rendered as markup').toBeNull();
  });
});

describe('App navigation', () => {
  it('shows the open conflicts count and opens the inbox', async () => {
    const overview = demoOverview();
    overview.totals.openConflicts = 2;
    const backend = new FakeBackend(overview);
    backend.conflictList = [conflict({ id: 1 }), conflict({ id: 2, key: 'MUG-02' })];
    const target = mountNow(App, { backend });
    await settle();
    expect(byTestId(target, 'conflicts-badge')?.textContent).toBe('2');
    (byTestId(target, 'nav-conflicts') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(target, 'conflict-list')?.querySelectorAll('li').length).toBe(2);
    overview.totals.openConflicts = 0;
    backend.emit(overview);
    flushSync();
    expect(byTestId(target, 'conflicts-badge'), 'no badge when nothing waits').toBeNull();
  });
});
