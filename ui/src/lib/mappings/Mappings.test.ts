import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { byTestId, cleanup, mountNow, render, settle } from '../testing';
import { BackendError } from '../backend';
import { FakeBackend } from '../backend/fake';
import { deadLetter, demoOverview } from '../backend/fixture';
import Mappings from './Mappings.svelte';

afterEach(cleanup);

function type(input: HTMLElement | null, value: string) {
  const el = input as HTMLInputElement;
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
}

const giftCard = {
  kind: 'sku',
  value: 'GIFTCARD-50',
  connectionId: 'erp',
  detail: 'Order #1021 was refused by Demo ERP: Could not find Item Code: GIFTCARD-50',
  firstSeen: '2025-01-01T11:00:00Z',
  lastSeen: '2025-01-01T11:30:00Z',
  seen: 2,
};

describe('Mappings', () => {
  it('says plainly when nothing needs or has a mapping', async () => {
    const root = await render(Mappings, { backend: new FakeBackend(demoOverview()) });
    expect(byTestId(root, 'unmapped-empty')?.textContent).toContain('Nothing is waiting');
    expect(byTestId(root, 'mappings-empty')?.textContent).toContain('used as they are');
  });

  it('shows loading first, and an error with a way to try again', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.failWith = new BackendError('journal', 'the journal is locked');
    const root = mountNow(Mappings, { backend });
    expect(root.textContent).toContain('Loading…');
    await settle();
    expect(byTestId(root, 'mappings-error')?.textContent).toContain('the journal is locked');
  });

  it('maps an unmapped SKU in one step and replays what it held up', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.mappingState.unmapped = [giftCard];
    backend.deadLetterList = [deadLetter({ id: 3 })];
    const root = await render(Mappings, { backend, names: { erp: 'Demo ERP' } });
    const row = byTestId(root, 'unmapped-GIFTCARD-50')?.textContent ?? '';
    expect(row).toContain('store SKU GIFTCARD-50');
    expect(row).toContain('in Demo ERP');
    expect(row).toContain('met 2 times');
    expect(row).toContain('Could not find Item Code: GIFTCARD-50');
    const button = byTestId(root, 'map-GIFTCARD-50') as HTMLButtonElement;
    expect(button.disabled, 'nothing typed yet').toBe(true);
    type(byTestId(root, 'map-to-GIFTCARD-50'), ' GIFT-CARD ');
    expect(button.disabled).toBe(false);
    button.click();
    await settle();
    expect(backend.mappingCalls).toEqual([['sku', 'GIFTCARD-50', ' GIFT-CARD ']]);
    expect(byTestId(root, 'mappings-done')?.textContent).toContain('1 failed write is queued again');
    expect(byTestId(root, 'unmapped-GIFTCARD-50')).toBeNull();
    expect(byTestId(root, 'mapping-GIFTCARD-50')?.textContent).toContain('GIFT-CARD');
  });

  it('adds and removes a warehouse mapping, and shows a refusal in words', async () => {
    const backend = new FakeBackend(demoOverview());
    const root = await render(Mappings, { backend });
    const kind = byTestId(root, 'mapping-kind') as HTMLSelectElement;
    for (const o of Array.from(kind.options)) o.selected = o.value === 'warehouse';
    kind.dispatchEvent(new Event('change', { bubbles: true }));
    flushSync();
    expect(byTestId(root, 'add-mapping')?.textContent).toContain('ERP warehouse');
    type(byTestId(root, 'mapping-source'), 'Stores - DS');
    type(byTestId(root, 'mapping-target'), 'Shop floor');
    (byTestId(root, 'mapping-save') as HTMLButtonElement).click();
    await settle();
    expect(backend.mappingCalls).toEqual([['warehouse', 'Stores - DS', 'Shop floor']]);
    expect(byTestId(root, 'mappings-done')?.textContent).toContain('Stock is read again');
    expect(byTestId(root, 'mapping-Stores - DS')?.textContent).toContain('Shop floor');

    (root.querySelector('[aria-label="Remove the mapping of Stores - DS"]') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'mappings-empty')).not.toBeNull();

    backend.failWith = new BackendError('settings', '"x" is not a kind of mapping');
    type(byTestId(root, 'mapping-source'), 'A');
    type(byTestId(root, 'mapping-target'), 'B');
    (byTestId(root, 'mapping-save') as HTMLButtonElement).click();
    await settle();
    expect(byTestId(root, 'mappings-error')?.textContent).toContain('is not a kind of mapping');
  });

  it('renders names from the systems as text, never as markup', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.mappingState.unmapped = [{ ...giftCard, value: '<img src=x onerror=alert(1)>' }];
    const root = await render(Mappings, { backend });
    expect(root.querySelector('img')).toBeNull();
    expect(root.textContent).toContain('<img src=x onerror=alert(1)>');
  });

  it('lists many values quickly enough to read', async () => {
    const backend = new FakeBackend(demoOverview());
    backend.mappingState.mappings = Array.from({ length: 500 }, (_, i) => ({
      kind: 'sku',
      source: `SKU-${i}`,
      target: `ITEM-${i}`,
      updatedAt: '2025-01-01T12:00:00Z',
    }));
    const root = await render(Mappings, { backend });
    expect(root.querySelectorAll('[data-testid^="mapping-SKU-"]').length).toBe(500);
  });
});
