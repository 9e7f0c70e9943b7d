//! A small, realistic `Overview` for tests and the fake backend.

import type { Conflict, ConnectionCard, DeadLetter, Notification, Overview } from './types';

export function connection(over: Partial<ConnectionCard> & { id: string }): ConnectionCard {
  return {
    name: over.id,
    kind: 'shopify',
    role: 'store',
    state: 'idle',
    stateText: 'Idle',
    lastRunAt: null,
    lastSuccessAt: null,
    nextRunAt: null,
    ordersPosted: 0,
    readUpTo: null,
    feeds: [],
    today: { runs: 0, read: 0, written: 0, failed: 0 },
    pending: 0,
    failed: 0,
    openConflicts: 0,
    recentFailures: [],
    ...over,
  };
}

export function demoOverview(over: Partial<Overview> = {}): Overview {
  return {
    generatedAt: '2025-01-01T12:00:00Z',
    demo: true,
    keychain: { available: true, message: '' },
    totals: { ordersPosted: 0, pending: 3, failed: 1, openConflicts: 0 },
    connections: [
      connection({
        id: 'shop',
        name: 'Demo Shop',
        kind: 'shopify',
        role: 'store',
        state: 'upToDate',
        stateText: 'Up to date',
        lastRunAt: '2025-01-01T11:59:00Z',
        lastSuccessAt: '2025-01-01T11:59:00Z',
        nextRunAt: '2025-01-01T12:04:00Z',
        pending: 3,
      }),
      connection({
        id: 'erp',
        name: 'Demo ERP',
        kind: 'erpnext',
        role: 'erp',
        state: 'retrying',
        stateText: 'Waiting to retry until 12:05',
        lastRunAt: '2025-01-01T11:58:00Z',
        failed: 1,
        recentFailures: [{ at: '2025-01-01T11:58:00Z', message: 'ERP answered 503 Service Unavailable' }],
      }),
    ],
    ...over,
  };
}

export function conflict(over: Partial<Conflict> & { id: number }): Conflict {
  return {
    storeId: 'shop',
    erpId: 'erp',
    entity: 'catalog',
    key: 'MUG-01',
    field: 'price',
    base: '12 EUR',
    storeValue: '13.9 EUR',
    erpValue: '14.2 EUR',
    open: true,
    openedAt: '2025-01-01T11:58:00Z',
    resolvedAt: null,
    resolvedBy: null,
    resolution: null,
    reason: null,
    ...over,
  };
}

export function deadLetter(over: Partial<DeadLetter> & { id: number }): DeadLetter {
  return {
    targetId: 'erp',
    entity: 'order',
    label: 'Order #1021',
    error: 'Could not find Item Code: GIFTCARD-50',
    attempts: 1,
    ...over,
  };
}

export function notification(over: Partial<Notification> & { id: number }): Notification {
  return {
    at: '2025-01-01T11:50:00Z',
    kind: 'dead_letter',
    connectionId: 'erp',
    title: '1 order could not be posted to Demo ERP',
    body: 'Order #1021: Could not find Item Code: GIFTCARD-50. Fix it in the ERP, then replay it in Failed writes.',
    delivery: 'shown',
    read: false,
    ...over,
  };
}
