import { describe, expect, it } from 'vitest';
import { lag, localTime } from './time';

describe('localTime', () => {
  const now = new Date(2025, 0, 1, 15, 0, 0);

  it('shows a moment today as a local clock time', () => {
    const at = new Date(2025, 0, 1, 14, 5, 12);
    expect(localTime(at.toISOString(), 'never', now)).toBe('14:05:12');
  });

  it('adds the date for another day', () => {
    const at = new Date(2024, 11, 31, 9, 3, 4);
    expect(localTime(at.toISOString(), 'never', now)).toBe('2024-12-31 09:03:04');
  });

  it('names a missing time and passes an unparseable one through', () => {
    expect(localTime(null, 'not scheduled', now)).toBe('not scheduled');
    expect(localTime('soon', 'never', now)).toBe('soon');
  });
});

describe('lag', () => {
  const now = new Date('2025-01-01T12:00:00Z');
  it('says how far behind, in the largest fitting unit', () => {
    expect(lag(null, now)).toBe('');
    expect(lag('2025-01-01T12:00:00Z', now)).toBe('');
    expect(lag('2025-01-01T11:59:48Z', now)).toBe(' (12 s behind)');
    expect(lag('2025-01-01T11:55:00Z', now)).toBe(' (5 min behind)');
    expect(lag('2025-01-01T09:00:00Z', now)).toBe(' (3 h behind)');
    expect(lag('garbage', now)).toBe('');
  });
});
