import { afterEach, describe, expect, it } from 'vitest';
import { byTestId, cleanup, mountNow, render as renderPage, settle } from '../testing';
import { BackendError } from '../backend';
import { FakeBackend } from '../backend/fake';
import { demoOverview } from '../backend/fixture';
import Checks from './Checks.svelte';

afterEach(cleanup);

const render = (backend: FakeBackend) => renderPage(Checks, { backend, names: { shop: 'Demo Shop', erp: 'Demo ERP' } });

const report = { storeId: 'shop', erpId: 'erp', from: '2025-01-01', to: '2025-01-07', storeOrders: 20, erpDocuments: 20 };

describe('Checks', () => {
  it('says when store and ERP are in step', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.reports = [{ ...report, drift: [] }];
    const root = await render(backend);
    (byTestId(root, 'reconcile') as HTMLButtonElement).click();
    await settle();
    expect(backend.reconcileCalls).toEqual([7]);
    expect(byTestId(root, 'report')?.textContent).toContain('Demo Shop → Demo ERP');
    expect(byTestId(root, 'in-step')).not.toBeNull();
  });

  it('lists every kind of drift in words', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.reports = [
      {
        ...report,
        drift: [
          { kind: 'missingInErp', order: '#1003', store_id: 'gid://shopify/Order/3' },
          { kind: 'totalDiffers', order: '#1004', erp_id: 'SO-4', store_total: '10.00 EUR', erp_total: '9.00 EUR' },
          { kind: 'notCancelledInErp', order: '#1005', erp_id: 'SO-5' },
          { kind: 'duplicated', order: '#1006', erp_ids: ['SO-6', 'SO-7'] },
        ],
      },
    ];
    const root = await render(backend);
    (byTestId(root, 'reconcile') as HTMLButtonElement).click();
    await settle();
    const drift = byTestId(root, 'drift')?.textContent ?? '';
    expect(drift).toContain('#1003 is not in the ERP');
    expect(drift).toContain('the store says 10.00 EUR');
    expect(drift).toContain('still live in the ERP');
    expect(drift).toContain('SO-6, SO-7');
  });

  it('previews writes and holds, and reports a failure', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.preview = [
      { label: 'Stock of MUG-01', summary: '12 available at loc', targetId: 'shop', action: { kind: 'write', op: 'set' } },
      { label: 'catalog MUG-02', summary: 'store says 3 EUR, ERP says 4 EUR', targetId: 'erp', action: { kind: 'hold', field: 'price' } },
      { label: '#1001', summary: 'Ada, 12 EUR', targetId: 'erp', action: { kind: 'link', remote_id: 'SO-1' } },
    ];
    const root = await render(backend);
    (byTestId(root, 'dry-run') as HTMLButtonElement).click();
    await settle();
    const lines = byTestId(root, 'preview')?.textContent ?? '';
    expect(lines).toContain('Stock of MUG-01 → Demo Shop: would write');
    expect(lines).toContain('price differs on both sides');
    expect(lines).toContain('already there as SO-1');
    backend.failWith = new BackendError('auth', 'Demo ERP refused the credentials');
    (byTestId(root, 'dry-run') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'checks-error')?.textContent).toContain('refused the credentials');
  });

  it('says when there is nothing to write', async () => {
    const root = await render(new FakeBackend(demoOverview()));
    (byTestId(root, 'dry-run') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'nothing-to-do')).not.toBeNull();
  });
});
