//! Window arithmetic for a list of fixed-height rows in a scroll container:
//! which rows are in view (plus a few either side), and whether the view is
//! near the end (time to read the next page). Pure, so it is tested directly.

/** The rows to put in the DOM: indexes `start` (inclusive) to `end` (exclusive). */
export interface Range {
  start: number;
  end: number;
}

/** What to assume when the container has no height yet (not laid out, or a test DOM). */
export const DEFAULT_VIEWPORT = 600;

const finite = (n: number, fallback: number) => (Number.isFinite(n) ? n : fallback);

/**
 * The rows that `viewportHeight` pixels of a list scrolled to `scrollTop`
 * show, widened by `overscan` rows on each side and clamped to `[0, total)`.
 * A viewport of 0 (or less) counts as `DEFAULT_VIEWPORT`.
 */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  total: number,
  overscan = 0,
): Range {
  const count = Math.max(0, Math.floor(finite(total, 0)));
  if (count === 0 || !(rowHeight > 0) || !Number.isFinite(rowHeight)) return { start: 0, end: 0 };
  const height = finite(viewportHeight, 0) > 0 ? viewportHeight : DEFAULT_VIEWPORT;
  const extra = Math.max(0, Math.floor(finite(overscan, 0)));
  const top = Math.max(0, finite(scrollTop, 0));
  const first = Math.min(count - 1, Math.floor(top / rowHeight));
  const last = Math.ceil((top + height) / rowHeight); // exclusive
  return { start: Math.max(0, first - extra), end: Math.min(count, Math.max(last, first + 1) + extra) };
}

/**
 * Whether the bottom of the view is within `threshold` rows of the end of
 * the list (time to read the next page). An empty list is never near its end.
 */
export function nearEnd(scrollTop: number, viewportHeight: number, rowHeight: number, total: number, threshold = 0): boolean {
  if (!(total > 0) || !(rowHeight > 0)) return false;
  const height = finite(viewportHeight, 0) > 0 ? viewportHeight : DEFAULT_VIEWPORT;
  const bottom = Math.max(0, finite(scrollTop, 0)) + height;
  return bottom >= (total - Math.max(0, threshold)) * rowHeight;
}
