//! An in-memory `Backend` for unit tests and UI work without the Rust side.

import type { Backend } from './backend';
import { BackendError } from './error';
import type { Overview } from './types';

export class FakeBackend implements Backend {
  /** Every `syncNow` argument, in call order. */
  readonly syncCalls: (string | null)[] = [];
  /** When set, the next calls to `overview`/`syncNow` reject with it. */
  failWith: BackendError | null = null;
  /** When set, `syncNow` waits for this before resolving (to observe in-flight state). */
  syncGate: Promise<void> | null = null;

  private current: Overview;
  private listeners = new Set<(o: Overview) => void>();

  constructor(initial: Overview) {
    this.current = structuredClone(initial);
  }

  async overview(): Promise<Overview> {
    if (this.failWith) throw this.failWith;
    return structuredClone(this.current);
  }

  async syncNow(connectionId: string | null): Promise<void> {
    this.syncCalls.push(connectionId);
    if (this.syncGate) await this.syncGate;
    if (this.failWith) throw this.failWith;
  }

  async onOverview(cb: (o: Overview) => void): Promise<() => void> {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Pushes a snapshot to every listener, as the backend's event would. */
  emit(overview: Overview): void {
    this.current = structuredClone(overview);
    for (const cb of this.listeners) cb(structuredClone(overview));
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
