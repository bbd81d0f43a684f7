// Usage as the charts and tables read it: the ranges offered, a series as columns with a zero for
// every quiet bucket (the API lists only buckets with activity), and live updates added into it.
import type { DashboardUsageCountsFragment, UsageGranularity } from '../generated/graphql.ts';

export type Counts = Omit<DashboardUsageCountsFragment, '__typename'>;
export type CountName = keyof Counts;
export const COUNT_NAMES: CountName[] = ['requests', 'errors', 'rejected', 'rateLimited', 'promptTokens', 'completionTokens'];

export interface UsageRange {
  id: string;
  label: string;
  /** how far back from now */
  ms: number;
  granularity: UsageGranularity;
}

export const RANGES: UsageRange[] = [
  { id: '1h', label: 'Last hour', ms: 3_600_000, granularity: 'MINUTE' },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000, granularity: 'HOUR' },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000, granularity: 'HOUR' },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000, granularity: 'DAY' },
];
export const DEFAULT_RANGE = RANGES[1]!;

export const BUCKET_MS: Record<UsageGranularity, number> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };
export const BUCKET_NAME: Record<UsageGranularity, string> = { MINUTE: 'minute', HOUR: 'hour', DAY: 'day' };

export const emptyCounts = (): Counts => ({ requests: 0, errors: 0, rejected: 0, rateLimited: 0, promptTokens: 0, completionTokens: 0 });

export function addInto(target: Counts, more: Partial<Counts>) {
  for (const name of COUNT_NAMES) target[name] += more[name] ?? 0;
}

/** A series as the page holds it: one entry per bucket of the range, quiet ones at zero. */
export interface Series {
  granularity: UsageGranularity;
  /** bucket starts, ms since the epoch (UTC-aligned, as the API's) */
  starts: number[];
  counts: Counts[];
  total: Counts;
}

export interface ApiSeries {
  from: string;
  to: string;
  total: Counts;
  buckets: (Counts & { start: string })[];
}

/** The API's series with every bucket of [from, to) present. */
export function fillSeries(api: ApiSeries, granularity: UsageGranularity): Series {
  const step = BUCKET_MS[granularity];
  const from = Date.parse(api.from);
  const to = Date.parse(api.to);
  const starts: number[] = [];
  const counts: Counts[] = [];
  for (let t = from; t < to; t += step) {
    starts.push(t);
    counts.push(emptyCounts());
  }
  for (const b of api.buckets) {
    const i = Math.floor((Date.parse(b.start) - from) / step);
    if (counts[i]) addInto(counts[i], b);
  }
  const total = emptyCounts();
  addInto(total, api.total);
  return { granularity, starts, counts, total };
}

/**
 * Adds counts recorded up to `at` (a usageUpdates event): into the bucket that holds the moment
 * just before `at`, extending the series with empty buckets when time has moved past its end.
 */
export function addUpdate(series: Series, at: string, counts: Partial<Counts>): Series {
  const step = BUCKET_MS[series.granularity];
  const moment = Date.parse(at) - 1;
  const starts = [...series.starts];
  const all = series.counts.map((c) => ({ ...c }));
  if (starts.length === 0) return series;
  if (moment < starts[0]!) return series;
  while (moment >= starts[starts.length - 1]! + step) {
    starts.push(starts[starts.length - 1]! + step);
    all.push(emptyCounts());
  }
  addInto(all[Math.floor((moment - starts[0]!) / step)]!, counts);
  const total = { ...series.total };
  addInto(total, counts);
  return { ...series, starts, counts: all, total };
}

const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat(undefined);

/** "1,234" */
export const formatCount = (n: number) => whole.format(n);
/** "1.2K" for axes */
export const formatCompact = (n: number) => compact.format(n);
