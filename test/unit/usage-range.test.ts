import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.ts';
import { bucketCount, MAX_USAGE_BUCKETS, usageRange } from '../../src/domain/usage-range.ts';

const at = (iso: string) => new Date(iso);

describe('usageRange', () => {
  it('aligns from down and to up to whole buckets', () => {
    expect(usageRange('HOUR', at('2026-12-02T10:17:00Z'), at('2026-12-02T12:01:00Z'))).toEqual({
      granularity: 'HOUR',
      from: at('2026-12-02T10:00:00Z'),
      to: at('2026-12-02T13:00:00Z'),
      buckets: 3,
    });
    expect(usageRange('DAY', at('2026-12-02T10:17:00Z'), at('2026-12-03T00:00:00Z')).buckets).toBe(1);
    expect(usageRange('MINUTE', at('2026-12-02T10:17:30Z'), null, Date.parse('2026-12-02T10:19:10Z')).to).toEqual(at('2026-12-02T10:20:00Z'));
  });

  it('refuses an empty, inverted or too long range on the field "from"', () => {
    const fails = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof DomainError ? [error.code, error.field] : error;
      }
      return 'no error';
    };
    expect(fails(() => usageRange('HOUR', at('2026-12-02T10:00:00Z'), at('2026-12-02T10:00:00Z')))).toEqual(['BAD_USER_INPUT', 'from']);
    expect(fails(() => usageRange('HOUR', at('2026-12-03T10:00:00Z'), at('2026-12-02T10:00:00Z')))).toEqual(['BAD_USER_INPUT', 'from']);
    const to = Date.parse('2026-12-02T00:00:00Z');
    expect(usageRange('MINUTE', new Date(to - MAX_USAGE_BUCKETS * 60_000), new Date(to)).buckets).toBe(MAX_USAGE_BUCKETS);
    expect(fails(() => usageRange('MINUTE', new Date(to - (MAX_USAGE_BUCKETS + 1) * 60_000), new Date(to)))).toEqual(['BAD_USER_INPUT', 'from']);
  });

  it('counts buckets for the query cost without throwing', () => {
    expect(bucketCount('HOUR', at('2026-11-02T00:00:00Z'), at('2026-12-02T00:00:00Z'))).toBe(720);
    expect(bucketCount('DAY', at('2030-01-01T00:00:00Z'), at('2020-01-01T00:00:00Z'))).toBe(1);
  });
});
