import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError } from './error';
import { demoOverview } from './fixture';
import { OVERVIEW_EVENT, tauriBackend } from './tauri';

afterEach(() => clearMocks());

describe('tauriBackend', () => {
  it('calls the `overview` command', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === 'overview') return demoOverview();
    });

    const overview = await tauriBackend.overview();

    expect(calls.map(([cmd]) => cmd)).toEqual(['overview']);
    expect(overview.connections.map((c) => c.id)).toEqual(['shop', 'erp']);
  });

  it('sends `sync_now` with a camelCase connectionId, null meaning all', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
    });

    await tauriBackend.syncNow(null);
    await tauriBackend.syncNow('shop');

    expect(calls).toEqual([
      ['sync_now', { connectionId: null }],
      ['sync_now', { connectionId: 'shop' }],
    ]);
  });

  it('turns a rejected invoke into a BackendError with its code', async () => {
    mockIPC(() => {
      throw { code: 'notFound', message: 'No connection called "nope".' };
    });

    const error = await tauriBackend.syncNow('nope').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).code).toBe('notFound');
    expect((error as BackendError).message).toBe('No connection called "nope".');
  });

  it('passes `ferry://overview` payloads to the callback until unlistened', async () => {
    mockIPC(() => undefined, { shouldMockEvents: true });
    const seen: number[] = [];
    const unlisten = await tauriBackend.onOverview((o) => seen.push(o.totals.ordersPosted));

    const first = demoOverview();
    first.totals.ordersPosted = 4;
    await emit(OVERVIEW_EVENT, first);
    unlisten();
    await emit(OVERVIEW_EVENT, demoOverview());

    expect(seen, 'only the event sent while listening arrives').toEqual([4]);
  });
});
