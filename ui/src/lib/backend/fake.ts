//! An in-memory `Backend` for unit tests and UI work without the Rust side.

import type { Backend } from './backend';
import { BackendError } from './error';
import type {
  ActivityEvent,
  ActivityQuery,
  Choice,
  Conflict,
  ConnectionEdit,
  ConnectionInfo,
  DeadLetter,
  Mapped,
  Mappings,
  NewConnection,
  Notification,
  Overview,
  PendingWrite,
  PreviewLine,
  ReconcileReport,
} from './types';

export class FakeBackend implements Backend {
  /** Every `syncNow` argument, in call order. */
  readonly syncCalls: (string | null)[] = [];
  /** When set, the next calls to `overview`/`syncNow` reject with it. */
  failWith: BackendError | null = null;
  /** When set, `syncNow` waits for this before resolving (to observe in-flight state). */
  syncGate: Promise<void> | null = null;

  /** Conflicts the fake holds (open and decided). */
  conflictList: Conflict[] = [];
  /** Every decision asked for: [id or field, choice, reason]. */
  readonly decisions: [number | string, Choice, string | null][] = [];
  /** When set, `resolveConflict` rejects with it (e.g. a typed value refused). */
  refuseWith: BackendError | null = null;

  /** Failed writes the fake holds. */
  deadLetterList: DeadLetter[] = [];
  /** Writes still to be made, as `pendingWrites` answers. */
  pendingList: PendingWrite[] = [];
  /** Every `replay` argument, in call order. */
  readonly replayCalls: (number | null)[] = [];
  /** The alert log the fake holds. */
  notificationList: Notification[] = [];

  /** Connections the fake holds. */
  connectionList: ConnectionInfo[] = [];
  /** Every add: [connection, secret] (tests check the secret is never echoed back). */
  readonly added: [NewConnection, string][] = [];
  /** When set, `addConnection`/`testConnection` reject with it (the system refused). */
  checkFails: BackendError | null = null;

  /** What `reconcile` answers, and the days it was asked for. */
  reports: ReconcileReport[] = [];
  readonly reconcileCalls: number[] = [];
  /** What `dryRun` answers. */
  preview: PreviewLine[] = [];

  /** The journal the fake holds (any order), and every query asked. */
  events: ActivityEvent[] = [];
  readonly activityCalls: ActivityQuery[] = [];

  /** What `mappings` answers; `setMapping`/`removeMapping` change it. */
  mappingState: Mappings = {
    kinds: [
      { kind: 'sku', source: 'store SKU', target: 'ERP item code' },
      { kind: 'warehouse', source: 'ERP warehouse', target: 'store location' },
    ],
    mappings: [],
    unmapped: [],
  };
  /** Every `setMapping` call: [kind, source, target]. */
  readonly mappingCalls: [string, string, string][] = [];
  /** Every `setPaused` call: [id, paused]. */
  readonly pauseCalls: [string, boolean][] = [];
  /** Every `editConnection` call: [id, edit, secret]. */
  readonly edits: [string, ConnectionEdit, string | null][] = [];
  /** Whether `welcome` says to show the first-run choice. */
  showWelcome = false;
  /** Start at login, as the desktop holds it. */
  loginStart = false;
  private navigators = new Set<(page: string) => void>();

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

  async conflicts(all: boolean): Promise<Conflict[]> {
    if (this.failWith) throw this.failWith;
    return structuredClone(this.conflictList.filter((c) => all || c.open));
  }

  async resolveConflict(id: number, choice: Choice, reason: string | null): Promise<void> {
    this.decisions.push([id, choice, reason]);
    if (this.refuseWith) throw this.refuseWith;
    this.decide(this.conflictList.filter((c) => c.id === id && c.open), choice, reason);
  }

  async resolveConflictsOf(field: string, choice: Choice, reason: string | null): Promise<number> {
    this.decisions.push([field, choice, reason]);
    if (this.refuseWith) throw this.refuseWith;
    const open = this.conflictList.filter((c) => c.field === field && c.open);
    this.decide(open, choice, reason);
    return open.length;
  }

  async deadLetters(): Promise<DeadLetter[]> {
    if (this.failWith) throw this.failWith;
    return structuredClone(this.deadLetterList);
  }

  async pendingWrites(): Promise<PendingWrite[]> {
    if (this.failWith) throw this.failWith;
    return structuredClone(this.pendingList);
  }

  async replay(id: number | null): Promise<number> {
    this.replayCalls.push(id);
    if (this.failWith) throw this.failWith;
    const before = this.deadLetterList.length;
    this.deadLetterList = id === null ? [] : this.deadLetterList.filter((d) => d.id !== id);
    return before - this.deadLetterList.length;
  }

  async notifications(): Promise<Notification[]> {
    if (this.failWith) throw this.failWith;
    return structuredClone(this.notificationList);
  }

  async markRead(id: number | null): Promise<number> {
    if (this.failWith) throw this.failWith;
    let n = 0;
    for (const a of this.notificationList) {
      if (!a.read && (id === null || a.id === id)) {
        a.read = true;
        n++;
      }
    }
    return n;
  }

  async connections(): Promise<ConnectionInfo[]> {
    if (this.failWith) throw this.failWith;
    return structuredClone(this.connectionList);
  }

  /** Where added connections go (the demo says `next-start`). */
  target: 'real' | 'next-start' = 'real';

  async connectionTarget(): Promise<'real' | 'next-start'> {
    return this.target;
  }

  async kinds(): Promise<[string, string][]> {
    return [
      ['shopify', 'store'],
      ['woocommerce', 'store'],
      ['erpnext', 'erp'],
      ['easypost', 'courier'],
    ];
  }

  async addConnection(connection: NewConnection, secret: string): Promise<string> {
    this.added.push([structuredClone(connection), secret]);
    if (this.checkFails) throw this.checkFails;
    if (this.target === 'next-start') {
      return connection.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    }
    const id = connection.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
    const role = (await this.kinds()).find(([k]) => k === connection.kind)?.[1] ?? 'store';
    this.connectionList.push({
      id,
      name: connection.name,
      kind: connection.kind,
      role: role as ConnectionInfo['role'],
      baseUrl: connection.baseUrl,
      settings: connection.settings,
      secretSet: true,
      pausedReason: null,
      pausedByPerson: false,
      credentialsOkAt: null,
      createdAt: '2025-01-01T12:00:00Z',
    });
    return id;
  }

  async testConnection(id: string): Promise<void> {
    if (this.checkFails) throw this.checkFails;
    if (!this.connectionList.some((c) => c.id === id)) throw new BackendError('not_found', `no connection "${id}"`);
  }

  async removeConnection(id: string): Promise<boolean> {
    const before = this.connectionList.length;
    this.connectionList = this.connectionList.filter((c) => c.id !== id);
    return this.connectionList.length < before;
  }

  async reconcile(days: number): Promise<ReconcileReport[]> {
    this.reconcileCalls.push(days);
    if (this.failWith) throw this.failWith;
    return structuredClone(this.reports);
  }

  async dryRun(): Promise<PreviewLine[]> {
    if (this.failWith) throw this.failWith;
    return structuredClone(this.preview);
  }

  async activity(query: ActivityQuery): Promise<ActivityEvent[]> {
    this.activityCalls.push(structuredClone(query));
    if (this.failWith) throw this.failWith;
    const search = query.search?.trim().toLowerCase();
    return this.events
      .filter((e) => !query.connectionId || e.connectionId === query.connectionId)
      .filter((e) => !query.entity || e.entity === query.entity)
      .filter((e) => !query.level || e.level === query.level)
      .filter((e) => !search || (e.key ?? '').toLowerCase().includes(search) || e.message.toLowerCase().includes(search))
      .filter((e) => query.beforeId === undefined || e.id < query.beforeId)
      .sort((a, b) => b.id - a.id)
      .slice(0, 200);
  }

  async recordHistory(entity: string, key: string): Promise<ActivityEvent[]> {
    if (this.failWith) throw this.failWith;
    return this.events.filter((e) => e.entity === entity && e.key === key).sort((a, b) => a.id - b.id);
  }

  async setPaused(id: string, paused: boolean): Promise<void> {
    this.pauseCalls.push([id, paused]);
    const c = this.connectionList.find((x) => x.id === id);
    if (!c) throw new BackendError('not_found', `no connection "${id}"`);
    c.pausedReason = paused ? 'paused by ada at 12:00; press Resume to sync again' : null;
    c.pausedByPerson = paused;
  }

  async editConnection(id: string, edit: ConnectionEdit, secret: string | null): Promise<void> {
    this.edits.push([id, structuredClone(edit), secret]);
    if (this.checkFails) throw this.checkFails;
    const c = this.connectionList.find((x) => x.id === id);
    if (!c) throw new BackendError('not_found', `no connection "${id}"`);
    if (edit.name !== undefined) c.name = edit.name.trim();
    if (edit.baseUrl !== undefined) c.baseUrl = edit.baseUrl;
    if (edit.settings !== undefined) c.settings = edit.settings;
    c.pausedReason = null;
    c.pausedByPerson = false;
  }

  async mappings(): Promise<Mappings> {
    if (this.failWith) throw this.failWith;
    return structuredClone(this.mappingState);
  }

  async setMapping(kind: string, source: string, target: string): Promise<Mapped> {
    this.mappingCalls.push([kind, source, target]);
    if (!target.trim()) throw new BackendError('settings', 'the ERP item code is empty');
    if (this.failWith) throw this.failWith;
    const m = this.mappingState;
    m.mappings = m.mappings.filter((x) => !(x.kind === kind && x.source === source.trim()));
    m.mappings.push({ kind, source: source.trim(), target: target.trim(), updatedAt: '2025-01-01T12:00:00Z' });
    m.unmapped = m.unmapped.filter((u) => !(u.kind === kind && u.value === source.trim()));
    const before = this.deadLetterList.length;
    if (kind === 'sku') this.deadLetterList = this.deadLetterList.filter((d) => !d.error.includes(source.trim()));
    return { replayed: before - this.deadLetterList.length, reread: true };
  }

  async removeMapping(kind: string, source: string): Promise<void> {
    const m = this.mappingState;
    const before = m.mappings.length;
    m.mappings = m.mappings.filter((x) => !(x.kind === kind && x.source === source));
    if (m.mappings.length === before) throw new BackendError('not_found', `no ${kind} mapping for "${source}"`);
  }

  async welcome(): Promise<boolean> {
    return this.showWelcome;
  }

  async dismissWelcome(): Promise<void> {
    this.showWelcome = false;
  }

  async startAtLogin(): Promise<boolean> {
    return this.loginStart;
  }

  async setStartAtLogin(on: boolean): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.loginStart = on;
  }

  async onNavigate(cb: (page: string) => void): Promise<() => void> {
    this.navigators.add(cb);
    return () => this.navigators.delete(cb);
  }

  /** Asks the window to show a page, as an alert click or the tray would. */
  navigate(page: string): void {
    for (const cb of this.navigators) cb(page);
  }

  private decide(list: Conflict[], choice: Choice, reason: string | null) {
    for (const c of list) {
      c.open = false;
      c.resolvedAt = '2025-01-01T12:30:00Z';
      c.resolvedBy = 'ada';
      c.reason = reason;
      c.resolution =
        choice.kind === 'keepStore' ? "kept the store's value" : choice.kind === 'keepErp' ? "kept the ERP's value" : `set ${choice.value}`;
    }
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
