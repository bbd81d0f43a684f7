// Moves counted usage from memory to the store every `intervalMs` (at most 4 s) and once more on
// stop(), then publishes what was written so control
// planes can serve `usageUpdates`. No request waits on it. A failed write keeps the counts, merged
// with what comes next, up to `maxPendingRows`; beyond that the oldest minutes are dropped, with a
// log line and a metric, rather than growing without bound while the store is down.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { addCounts, type UsageAggregator, type UsageRow } from './aggregator.ts';
import { type UsageBatch, toUsageBatch } from './usage-update.ts';

/** A killed proxy loses what it counted since the drain of its last completed flush: up to one
 *  interval plus a write in progress and a late timer. 4 s keeps that within the promised 5 s. */
export const USAGE_FLUSH_MS = 4_000;
export const MAX_PENDING_ROWS = 200_000;

export interface UsageFlusherDeps {
  aggregator: UsageAggregator;
  /** the additive upsert (statements/usage.ts addUsage) */
  write(rows: readonly UsageRow[]): Promise<unknown>;
  /** publishes a written batch on the feed; a failure only costs live updates */
  publish(batch: UsageBatch): Promise<void>;
  log: Logger;
  registry: Registry;
  intervalMs?: number;
  maxPendingRows?: number;
  now?: () => number;
}

export interface UsageFlusher {
  /** one flush now (the timer's and stop()'s); resolves when it is written or kept for later */
  flush(): Promise<void>;
  /** rows waiting after a failed write */
  readonly pendingRows: number;
  /** stops the timer and flushes what is left */
  stop(): Promise<void>;
}

const rowKey = (r: UsageRow) => `${r.minute}/${r.deploymentId}/${r.apiKeyId ?? ''}`;

export function startUsageFlusher(deps: UsageFlusherDeps): UsageFlusher {
  const { aggregator, log } = deps;
  const now = deps.now ?? Date.now;
  const maxPending = deps.maxPendingRows ?? MAX_PENDING_ROWS;
  const registers = [deps.registry];
  const seconds = new Histogram({
    name: 'keygate_usage_flush_seconds',
    help: 'Time to write one usage flush to the store',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const failures = new Counter({ name: 'keygate_usage_flush_failures_total', help: 'Usage flushes the store refused (the counts are kept and retried)', registers });
  const dropped = new Counter({ name: 'keygate_usage_dropped_rows_total', help: 'Usage rows dropped because the retry buffer was full', registers });
  const pendingGauge = new Gauge({ name: 'keygate_usage_pending_rows', help: 'Usage rows waiting for a successful write', registers });

  /** Rows not yet written: what failed before, plus each new drain, merged per bucket. */
  let pending = new Map<string, UsageRow>();
  let running: Promise<void> | null = null;
  let stopped = false;

  function take(rows: UsageRow[]) {
    for (const r of rows) {
      const key = rowKey(r);
      const old = pending.get(key);
      if (!old) pending.set(key, r);
      else {
        addCounts(old, r);
        old.lastUsedAt = Math.max(old.lastUsedAt, r.lastUsedAt);
      }
    }
  }

  /** Keeps the newest minutes when the buffer is over its bound. */
  function bound() {
    if (pending.size <= maxPending) return;
    const rows = [...pending.values()].sort((a, b) => b.minute - a.minute);
    const lost = rows.splice(maxPending);
    pending = new Map(rows.map((r) => [rowKey(r), r]));
    dropped.inc(lost.length);
    const requests = lost.reduce((n, r) => n + r.requests + r.rejected + r.rateLimited, 0);
    log.error({ rows: lost.length, requests }, 'usage retry buffer full: dropped the oldest counts');
  }

  async function flushOnce() {
    take(aggregator.drain());
    if (pending.size === 0) return;
    const rows = [...pending.values()];
    const at = now();
    const end = seconds.startTimer();
    try {
      await deps.write(rows);
    } catch (error) {
      failures.inc();
      bound();
      pendingGauge.set(pending.size);
      log.warn({ err: (error as Error).message, rows: pending.size }, 'usage flush failed; keeping the counts to retry');
      return;
    } finally {
      end();
    }
    pending = new Map();
    pendingGauge.set(0);
    await deps.publish(toUsageBatch(rows, at)).catch((error: unknown) =>
      log.debug({ err: (error as Error).message }, 'usage batch not published; usageUpdates misses it, usage queries do not'),
    );
  }

  function flush(): Promise<void> {
    running ??= flushOnce().finally(() => (running = null));
    return running;
  }

  const timer = setInterval(() => {
    if (!stopped) void flush();
  }, Math.min(deps.intervalMs ?? USAGE_FLUSH_MS, USAGE_FLUSH_MS));
  timer.unref();

  return {
    flush,
    get pendingRows() {
      return pending.size;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await flush();
      if (pending.size > 0) log.error({ rows: pending.size }, 'usage not written at shutdown: the store is unreachable');
    },
  };
}
