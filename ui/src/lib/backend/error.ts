//! The one error type the UI sees from the backend. The Rust side sends
//! `{ code, message }`; branch on `code`, show `message`.

/** Used when the rejection was not the `{ code, message }` shape the backend promises. */
export const UNEXPECTED = 'unexpected';

export class BackendError extends Error {
  /** Stable, machine-readable; the UI branches on this, never on `message`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }

  /** Turns whatever an `invoke` rejected with into a `BackendError`. */
  static from(reason: unknown): BackendError {
    if (reason instanceof BackendError) return reason;
    if (isErrorShape(reason)) return new BackendError(reason.code, reason.message);
    if (reason instanceof Error) return new BackendError(UNEXPECTED, reason.message);
    if (typeof reason === 'string') return new BackendError(UNEXPECTED, reason);
    return new BackendError(UNEXPECTED, 'The app’s backend reported an error it could not describe.');
  }
}

function isErrorShape(value: unknown): value is { code: string; message: string } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.message === 'string';
}
