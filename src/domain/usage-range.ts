// The range of a usage read (docs/api.md, "Usage"): `from` aligned down and `to` (default now) aligned up
// to the granularity, so the series is whole buckets; at most MAX_USAGE_BUCKETS of them.
import type { Granularity } from '../db/statements/index.ts';
import { badInput } from './errors.ts';

export const MAX_USAGE_BUCKETS = 1500;

const UNIT_MS: Readonly<Record<Exclude<Granularity, 'DAY'>, number>> = { MINUTE: 60_000, HOUR: 3_600_000 };
const DAY_MS = 86_400_000;

export interface UsageRange {
  granularity: Granularity;
  from: Date;
  to: Date;
  buckets: number;
}

const unitMs = (g: Granularity) => (g === 'DAY' ? DAY_MS : UNIT_MS[g]);
// UTC days are all 86,400 s long for Date arithmetic (no leap seconds), so flooring by ms is exact.
const floorTo = (ms: number, g: Granularity) => ms - (((ms % unitMs(g)) + unitMs(g)) % unitMs(g));
const ceilTo = (ms: number, g: Granularity) => {
  const floored = floorTo(ms, g);
  return floored === ms ? ms : floored + unitMs(g);
};

/** The bucket count of a range, for the query cost (before validation: never throws). */
export function bucketCount(granularity: Granularity, from: Date, to: Date | null | undefined, now = Date.now()): number {
  const end = ceilTo((to ?? new Date(now)).getTime(), granularity);
  const start = floorTo(from.getTime(), granularity);
  return Number.isFinite(end - start) ? Math.max(1, Math.round((end - start) / unitMs(granularity))) : MAX_USAGE_BUCKETS;
}

/** Checks and aligns a range; BAD_USER_INPUT (field "from") when it is empty, inverted or too long. */
export function usageRange(granularity: Granularity, from: Date, to: Date | null | undefined, now = Date.now()): UsageRange {
  const end = to ?? new Date(now);
  if (from.getTime() >= end.getTime()) throw badInput('from', 'from must be before to');
  const alignedFrom = floorTo(from.getTime(), granularity);
  const alignedTo = ceilTo(end.getTime(), granularity);
  const buckets = (alignedTo - alignedFrom) / unitMs(granularity);
  if (buckets > MAX_USAGE_BUCKETS) {
    throw badInput('from', `the range holds ${buckets} ${granularity} buckets; at most ${MAX_USAGE_BUCKETS} (use a coarser granularity or a later from)`);
  }
  return { granularity, from: new Date(alignedFrom), to: new Date(alignedTo), buckets };
}
