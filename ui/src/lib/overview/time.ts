//! Renders backend timestamps (RFC 3339 UTC) as local wall-clock time.

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * "14:05:12" for a moment today (local time); "2024-05-01 14:05:12" for
 * another day; `whenMissing` for null. An unparseable value is shown as sent.
 */
export function localTime(iso: string | null, whenMissing: string, now: Date = new Date()): string {
  if (iso === null) return whenMissing;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const clock = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  const sameDay =
    at.getFullYear() === now.getFullYear() &&
    at.getMonth() === now.getMonth() &&
    at.getDate() === now.getDate();
  if (sameDay) return clock;
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${clock}`;
}

/** Which of two snapshots is newer, by `generatedAt`; ties go to `b` (the later arrival). */
export function newer<T extends { generatedAt: string }>(a: T | null, b: T): T {
  if (a === null) return b;
  const ta = Date.parse(a.generatedAt);
  const tb = Date.parse(b.generatedAt);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return b;
  return tb >= ta ? b : a;
}

/** " (12 s behind)", " (5 min behind)", " (2 h behind)" for how far `iso` is behind `now`; "" for null or none. */
export function lag(iso: string | null, now: Date = new Date()): string {
  if (iso === null) return '';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '';
  const secs = Math.max(0, Math.round((now.getTime() - at) / 1000));
  if (secs < 1) return '';
  if (secs < 120) return ` (${secs} s behind)`;
  if (secs < 7200) return ` (${Math.round(secs / 60)} min behind)`;
  return ` (${Math.round(secs / 3600)} h behind)`;
}
