import { describe, expect, it } from 'vitest';
import { DEFAULT_VIEWPORT, nearEnd, visibleRange } from './virtual';

describe('visibleRange', () => {
  it('shows the rows in view at the top, plus the overscan below', () => {
    expect(visibleRange(0, 100, 10, 1000, 0)).toEqual({ start: 0, end: 10 });
    expect(visibleRange(0, 100, 10, 1000, 5)).toEqual({ start: 0, end: 15 });
  });

  it('follows the scroll position, with overscan on both sides', () => {
    expect(visibleRange(500, 100, 10, 1000, 5)).toEqual({ start: 45, end: 65 });
    // A row cut at the top or bottom still counts as in view.
    expect(visibleRange(505, 100, 10, 1000, 0)).toEqual({ start: 50, end: 61 });
  });

  it('stays instant and small over a million rows', () => {
    const r = visibleRange(36 * 999_000, 720, 36, 1_000_000, 8);
    expect(r).toEqual({ start: 998_992, end: 999_028 });
    expect(r.end - r.start).toBeLessThan(50);
  });

  it('clamps to the list at its end and when scrolled past it', () => {
    expect(visibleRange(9_950, 100, 10, 1000, 5)).toEqual({ start: 990, end: 1000 });
    expect(visibleRange(1e9, 100, 10, 1000, 5)).toEqual({ start: 994, end: 1000 });
  });

  it('renders a short list in full', () => {
    expect(visibleRange(0, 600, 36, 3, 8)).toEqual({ start: 0, end: 3 });
  });

  it('assumes a default viewport when the container has no height (no layout yet)', () => {
    expect(visibleRange(0, 0, 10, 1000, 0)).toEqual({ start: 0, end: DEFAULT_VIEWPORT / 10 });
    expect(visibleRange(0, NaN, 10, 1000, 0)).toEqual({ start: 0, end: DEFAULT_VIEWPORT / 10 });
  });

  it('is empty for an empty list or a nonsense row height, and ignores a negative scroll', () => {
    expect(visibleRange(0, 100, 10, 0, 5)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(0, 100, 0, 10, 5)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(0, 100, NaN, 10, 5)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(-50, 100, 10, 1000, 0)).toEqual({ start: 0, end: 10 });
    expect(visibleRange(NaN, 100, 10, 1000, -3)).toEqual({ start: 0, end: 10 });
  });
});

describe('nearEnd', () => {
  it('says when the bottom of the view is within the threshold of the end', () => {
    // 200 rows of 10px = 2000px; view 100px; threshold 20 rows = 200px.
    expect(nearEnd(0, 100, 10, 200, 20)).toBe(false);
    expect(nearEnd(1_699, 100, 10, 200, 20)).toBe(false);
    expect(nearEnd(1_700, 100, 10, 200, 20)).toBe(true);
    expect(nearEnd(1_900, 100, 10, 200, 20)).toBe(true);
  });

  it('is true for a list shorter than the view, false for an empty one', () => {
    expect(nearEnd(0, 600, 36, 5, 0)).toBe(true);
    expect(nearEnd(0, 600, 36, 0, 0)).toBe(false);
    expect(nearEnd(0, 600, 0, 5, 0)).toBe(false);
  });
});
