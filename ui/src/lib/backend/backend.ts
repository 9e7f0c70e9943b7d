//! The one door between the UI and the app's backend. Pages receive a
//! `Backend`; the Tauri implementation talks IPC, the fake lives in memory.

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

export interface Backend {
  /**
   * The current overview snapshot.
   * @throws BackendError
   */
  overview(): Promise<Overview>;

  /**
   * Asks the backend to sync now: one connection by id, or every connection
   * when `connectionId` is null. Resolves once the request is accepted; the
   * results arrive as overview events.
   * @throws BackendError
   */
  syncNow(connectionId: string | null): Promise<void>;

  /**
   * Calls `cb` with every overview snapshot the backend pushes.
   * Resolves to a function that stops listening.
   */
  onOverview(cb: (overview: Overview) => void): Promise<() => void>;

  /**
   * Open conflicts, newest first; with `all`, decided ones too (the history).
   * @throws BackendError
   */
  conflicts(all: boolean): Promise<Conflict[]>;

  /**
   * Decides one conflict; the decision is written on the next sync (asked for at once).
   * @throws BackendError with code `settings` when a typed value is not valid for the field
   */
  resolveConflict(id: number, choice: Choice, reason: string | null): Promise<void>;

  /**
   * Decides every open conflict of `field` the same way. Resolves to how many.
   * @throws BackendError
   */
  resolveConflictsOf(field: string, choice: Choice, reason: string | null): Promise<number>;

  /**
   * Writes that could not be made (the remote's words), newest first.
   * @throws BackendError
   */
  deadLetters(): Promise<DeadLetter[]>;

  /**
   * Writes still to be made (queued or waiting to retry), oldest first.
   * @throws BackendError
   */
  pendingWrites(): Promise<PendingWrite[]>;

  /**
   * Queues one failed write (by id) or all (null) again; resolves to how many.
   * @throws BackendError with code `not_found` for an unknown id
   */
  replay(id: number | null): Promise<number>;

  /**
   * The alert log, newest first.
   * @throws BackendError
   */
  notifications(): Promise<Notification[]>;

  /**
   * Marks one alert (by id) or all (null) as read; resolves to how many changed.
   * @throws BackendError
   */
  markRead(id: number | null): Promise<number>;

  /**
   * Every configured connection (never a secret).
   * @throws BackendError
   */
  connections(): Promise<ConnectionInfo[]>;

  /**
   * Where an added connection goes: `real` (Ferry runs on it now) or
   * `next-start` (Ferry runs the demo now; the connection is saved for real
   * use and used from the next start).
   */
  connectionTarget(): Promise<'real' | 'next-start'>;

  /** The kinds of system Ferry can connect to: [kind, role]. */
  kinds(): Promise<[string, string][]>;

  /**
   * Checks the system with `secret`, then saves the connection; the secret
   * goes to the keychain and is never sent back. Resolves to the new id.
   * @throws BackendError with the system's own words when the check fails (nothing is saved)
   */
  addConnection(connection: NewConnection, secret: string): Promise<string>;

  /**
   * Checks a saved connection with its stored secret.
   * @throws BackendError with what the system answered
   */
  testConnection(id: string): Promise<void>;

  /**
   * Removes a connection and its keychain entry.
   * @throws BackendError
   */
  removeConnection(id: string): Promise<boolean>;

  /**
   * Compares the store's orders of the last `days` days with the ERP.
   * @throws BackendError
   */
  reconcile(days: number): Promise<ReconcileReport[]>;

  /**
   * What the next sync would write or hold; writes nothing.
   * @throws BackendError
   */
  dryRun(): Promise<PreviewLine[]>;

  /**
   * One page of the journal (up to 200 lines), newest first.
   * @throws BackendError
   */
  activity(query: ActivityQuery): Promise<ActivityEvent[]>;

  /**
   * Everything the journal says about one record on every system, oldest first.
   * @throws BackendError
   */
  recordHistory(entity: string, key: string): Promise<ActivityEvent[]>;

  /**
   * Pauses a connection (nothing is read or written; writes wait) or resumes it.
   * @throws BackendError with code `not_found` for an unknown id
   */
  setPaused(id: string, paused: boolean): Promise<void>;

  /**
   * Changes a saved connection after checking it against the system with
   * `secret` (a new one) or the stored one (null). Nothing is saved when the check fails.
   * @throws BackendError with the system's own words
   */
  editConnection(id: string, edit: ConnectionEdit, secret: string | null): Promise<void>;

  /**
   * Every mapping, and the values the engine met with none.
   * @throws BackendError
   */
  mappings(): Promise<Mappings>;

  /**
   * Maps a value; what waited for it is put back to work and a sync asked for.
   * @throws BackendError with code `settings` for an empty side or an unknown kind
   */
  setMapping(kind: string, source: string, target: string): Promise<Mapped>;

  /**
   * Removes a mapping.
   * @throws BackendError with code `not_found`
   */
  removeMapping(kind: string, source: string): Promise<void>;

  /** Whether to show the first-run choice (the demo, or connecting real systems). */
  welcome(): Promise<boolean>;

  /** The first-run choice is made; it is not shown again. */
  dismissWelcome(): Promise<void>;

  /** Whether Ferry starts (in the tray) at login. */
  startAtLogin(): Promise<boolean>;

  /**
   * Turns starting at login on or off.
   * @throws BackendError when the desktop refuses
   */
  setStartAtLogin(on: boolean): Promise<void>;

  /** Calls `cb` with the page the backend asks to show (an alert or the tray was clicked). */
  onNavigate(cb: (page: string) => void): Promise<() => void>;
}
