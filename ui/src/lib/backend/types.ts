//! Transport types for the Tauri commands and events. They mirror the Rust
//! DTOs field for field (serde camelCase); change both sides together.

/** Everything the Overview page shows, as one snapshot. Sent by `overview` and on `ferry://overview`. */
export interface Overview {
  /** When the snapshot was made, RFC 3339 in UTC. */
  generatedAt: string;
  /** True when the app runs against its built-in demo systems. */
  demo: boolean;
  keychain: { available: boolean; message: string };
  totals: { ordersPosted: number; pending: number; failed: number; openConflicts: number };
  connections: ConnectionCard[];
}

export type ConnectionState = 'idle' | 'syncing' | 'upToDate' | 'retrying' | 'paused' | 'failing';

export type ConnectionRole = 'store' | 'erp' | 'courier';

export interface ConnectionCard {
  id: string;
  name: string;
  /** The connector, e.g. "shopify", "erpnext". */
  kind: string;
  role: ConnectionRole;
  state: ConnectionState;
  /** The state already in words, e.g. "Up to date", "Waiting to retry until 14:05". */
  stateText: string;
  /** RFC 3339 UTC, or null when it has never happened / is not scheduled. */
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  nextRunAt: string | null;
  /** Orders posted (store, ERP) or parcels booked (courier). */
  ordersPosted: number;
  /** RFC 3339 UTC: everything changed before this has been read; null before the first read. */
  readUpTo: string | null;
  /** Each change feed read from this connection and how far it has got. */
  feeds: Feed[];
  /** What this connection's runs did since midnight. */
  today: Today;
  pending: number;
  failed: number;
  openConflicts: number;
  recentFailures: RecentFailure[];
}

/** One change feed (`order`, `stock`, ...) and its watermark (RFC 3339 UTC, null before the first read). */
export interface Feed {
  entity: string;
  readUpTo: string | null;
}

/** What a connection's runs did today. */
export interface Today {
  runs: number;
  read: number;
  written: number;
  failed: number;
}

export interface RecentFailure {
  /** RFC 3339 UTC. */
  at: string;
  message: string;
}

/** A field changed differently on both sides, waiting for a person (or decided: history). */
export interface Conflict {
  id: number;
  storeId: string;
  erpId: string;
  /** `catalog` or `customer`. */
  entity: string;
  /** The record, e.g. the SKU. */
  key: string;
  /** e.g. `price`, `title`, `email`. */
  field: string;
  /** The value both sides last agreed on; null when they never did. */
  base: string | null;
  storeValue: string | null;
  erpValue: string | null;
  open: boolean;
  /** RFC 3339 UTC. */
  openedAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  /** In words, e.g. "kept the ERP's value". */
  resolution: string | null;
  reason: string | null;
}

/** A person's decision: keep one side, or a typed value. */
export type Choice = { kind: 'keepStore' } | { kind: 'keepErp' } | { kind: 'value'; value: string };

/** A write that could not be made, waiting for a person to fix the data and replay it. */
export interface DeadLetter {
  id: number;
  targetId: string;
  /** `order`, `stock`, `catalog`, `customer`, `refund`, `shipment`, ... */
  entity: string;
  /** What people call the record, e.g. "Order #1001". */
  label: string;
  /** The remote system's own words. */
  error: string;
  attempts: number;
}

/** A write still to be made: queued, or waiting to be tried again after a transient failure. */
export interface PendingWrite {
  id: number;
  targetId: string;
  entity: string;
  /** What people call the record, e.g. "Order #1001". */
  label: string;
  attempts: number;
  /** RFC 3339 UTC: when it is tried (again). */
  nextAttemptAt: string;
  /** Why the last try failed, when it did (it is retried). */
  lastError: string | null;
}

export type AlertKind =
  | 'run_failed'
  | 'auth_failed'
  | 'dead_letter'
  | 'new_conflict'
  | 'courier_exception'
  | 'no_recent_success'
  | 'drift'
  | 'digest';

/** One entry of the alert log. */
export interface Notification {
  id: number;
  /** RFC 3339 UTC. */
  at: string;
  kind: AlertKind;
  connectionId: string | null;
  title: string;
  body: string;
  /** Shown as a desktop alert, folded into a group, or held back as a repeat. */
  delivery: 'shown' | 'grouped' | 'suppressed';
  read: boolean;
}

/** A configured connection, as listed: never the secret, only whether one is set. */
export interface ConnectionInfo {
  id: string;
  name: string;
  kind: string;
  role: ConnectionRole;
  baseUrl: string;
  settings: Record<string, unknown>;
  secretSet: boolean;
  pausedReason: string | null;
  /** A person paused it (Resume starts it again); otherwise Ferry did, for `pausedReason`. */
  pausedByPerson: boolean;
  /** RFC 3339 UTC: when its credentials last worked (its newest successful run). */
  credentialsOkAt: string | null;
  createdAt: string;
}

/** What a person changes on a saved connection; a missing field keeps its value. */
export interface ConnectionEdit {
  name?: string;
  baseUrl?: string;
  /** Replaces the settings whole. */
  settings?: Record<string, unknown>;
}

/** A kind of mapping and what its two sides are called. */
export interface MappingKind {
  /** `sku` or `warehouse`. */
  kind: string;
  /** e.g. "store SKU". */
  source: string;
  /** e.g. "ERP item code". */
  target: string;
}

export interface Mapping {
  kind: string;
  source: string;
  target: string;
  updatedAt: string;
}

/** A value the engine met that has no mapping, and what that held up. */
export interface Unmapped {
  kind: string;
  value: string;
  connectionId: string | null;
  detail: string;
  firstSeen: string;
  lastSeen: string;
  seen: number;
}

export interface Mappings {
  kinds: MappingKind[];
  mappings: Mapping[];
  unmapped: Unmapped[];
}

/** What setting a mapping put back to work. */
export interface Mapped {
  /** Failed writes that named the value, queued again. */
  replayed: number;
  /** Stock is read again from the start. */
  reread: boolean;
}

/** A connection to add; the secret is passed beside it and goes straight to the keychain. */
export interface NewConnection {
  kind: string;
  name: string;
  baseUrl: string;
  settings: Record<string, unknown>;
}

/** One difference a reconciliation found (field names as the Rust side sends them). */
export type DriftItem =
  | { kind: 'missingInErp'; order: string; store_id: string }
  | { kind: 'totalDiffers'; order: string; erp_id: string; store_total: string; erp_total: string }
  | { kind: 'notCancelledInErp'; order: string; erp_id: string }
  | { kind: 'duplicated'; order: string; erp_ids: string[] };

/** What a reconciliation found for one store → ERP pair. */
export interface ReconcileReport {
  storeId: string;
  erpId: string;
  /** Dates, YYYY-MM-DD. */
  from: string;
  to: string;
  storeOrders: number;
  erpDocuments: number;
  drift: DriftItem[];
}

/** What a dry run would do with one record. */
export type PreviewAction =
  | { kind: 'create' }
  | { kind: 'link'; remote_id: string }
  | { kind: 'skip' }
  | { kind: 'cancel' }
  | { kind: 'write'; op: string }
  | { kind: 'hold'; field: string };

export interface PreviewLine {
  label: string;
  summary: string;
  targetId: string;
  action: PreviewAction;
}

/** What the Activity page asks for; every field narrows. */
export interface ActivityQuery {
  connectionId?: string;
  entity?: string;
  level?: 'info' | 'warn' | 'error';
  /** An order number, a SKU, an email: matched in the record's key or the message. */
  search?: string;
  /** The previous page's last id. */
  beforeId?: number;
}

/** One line of the journal. */
export interface ActivityEvent {
  id: number;
  at: string;
  level: 'info' | 'warn' | 'error';
  connectionId: string | null;
  entity: string | null;
  key: string | null;
  message: string;
}
