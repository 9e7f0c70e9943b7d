//! `Backend` over Tauri IPC. The only module (with its siblings) that
//! imports `@tauri-apps/*`.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { Backend } from './backend';
import { BackendError } from './error';
import type {
  ActivityEvent,
  Conflict,
  ConnectionInfo,
  DeadLetter,
  Mapped,
  Mappings,
  Notification,
  Overview,
  PendingWrite,
  PreviewLine,
  ReconcileReport,
} from './types';

/** Event the backend emits with a fresh `Overview` whenever anything changes. */
export const OVERVIEW_EVENT = 'ferry://overview';
/** Event asking the window to show a page: `{ page }`. */
export const NAVIGATE_EVENT = 'ferry://navigate';

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    throw BackendError.from(reason);
  }
}

export const tauriBackend: Backend = {
  overview: () => call<Overview>('overview'),
  syncNow: (connectionId) => call<void>('sync_now', { connectionId }),
  onOverview: (cb) => listen<Overview>(OVERVIEW_EVENT, (event) => cb(event.payload)),
  conflicts: (all) => call<Conflict[]>('conflicts', { all }),
  resolveConflict: (id, choice, reason) => call<void>('resolve_conflict', { id, choice, reason }),
  resolveConflictsOf: (field, choice, reason) => call<number>('resolve_conflicts_of', { field, choice, reason }),
  deadLetters: () => call<DeadLetter[]>('dead_letters'),
  replay: (id) => call<number>('replay', { id }),
  pendingWrites: () => call<PendingWrite[]>('pending_writes'),
  notifications: () => call<Notification[]>('notifications'),
  markRead: (id) => call<number>('mark_read', { id }),
  connections: () => call<ConnectionInfo[]>('connections'),
  kinds: () => call<[string, string][]>('kinds'),
  connectionTarget: () => call<'real' | 'next-start'>('connection_target'),
  addConnection: (connection, secret) => call<string>('add_connection', { connection, secret }),
  testConnection: (id) => call<void>('test_connection', { id }),
  removeConnection: (id) => call<boolean>('remove_connection', { id }),
  reconcile: (days) => call<ReconcileReport[]>('reconcile', { days }),
  dryRun: () => call<PreviewLine[]>('dry_run'),
  activity: (query) => call<ActivityEvent[]>('activity', { query }),
  recordHistory: (entity, key) => call<ActivityEvent[]>('record_history', { entity, key }),
  setPaused: (id, paused) => call<void>('set_paused', { id, paused }),
  editConnection: (id, edit, secret) => call<void>('edit_connection', { id, edit, secret }),
  mappings: () => call<Mappings>('mappings'),
  setMapping: (kind, source, target) => call<Mapped>('set_mapping', { kind, source, target }),
  removeMapping: (kind, source) => call<void>('remove_mapping', { kind, source }),
  welcome: () => call<boolean>('welcome'),
  dismissWelcome: () => call<void>('dismiss_welcome'),
  startAtLogin: () => call<boolean>('start_at_login'),
  setStartAtLogin: (on) => call<void>('set_start_at_login', { on }),
  onNavigate: (cb) => listen<{ page: string }>(NAVIGATE_EVENT, (event) => cb(event.payload.page)),
};
