// Keeps a proxy's auth table current: loads the change log's snapshot, then applies the feed
// through a gap-checked FeedConsumer, and holds the proxy's lease and acks so mutations can
// confirm. A proxy that cannot load its first snapshot stays not_ready and keeps trying.
import type { Logger } from 'pino';
import type { Sql } from '../db/sql.ts';
import { changeLogSource, streamSnapshot } from '../feed/change-log.ts';
import { type ConsumerStatus, FeedConsumer } from '../feed/consumer.ts';
import type { ChangeSource } from '../feed/follower.ts';
import type { Feed } from '../feed/feed.ts';
import { startProxySync, type ProxySync } from '../feed/lease.ts';
import { compactHeap } from '../runtime/compact-heap.ts';
import { type AuthTable, TableBuilder } from './auth-table.ts';

/** Keys from which a snapshot load ends with a compacting collection (src/runtime/compact-heap.ts). */
const COMPACT_AFTER_KEYS = 100_000;

export interface TableSyncOptions {
  table: AuthTable;
  /** reads the change log (a pg pool in a proxy process, Prisma in `keygate start`) */
  sql: Sql;
  feed: Feed;
  proxyId: string;
  pollIntervalMs: number;
  maxStalenessMs: number;
  leaseMs: number;
  log: Logger;
  /** told the lag (head − applied) whenever the consumer polls the head */
  onLag?: (revisions: number) => void;
}

export interface TableSync {
  status(): ConsumerStatus;
  stop(): Promise<void>;
}

export function startTableSync(options: TableSyncOptions): TableSync {
  const { table, sql, feed, log } = options;
  let consumer: FeedConsumer | null = null;
  let sync: ProxySync | null = null;
  let stopped = false;

  const changeLog = changeLogSource(sql);
  const source: ChangeSource = {
    ...changeLog,
    head: async () => {
      const head = await changeLog.head();
      options.onLag?.(Math.max(0, head - table.revision));
      return head;
    },
  };
  const newConsumer = () =>
    new FeedConsumer({
      feed,
      source,
      initialize: async () => {
        const startedAt = performance.now();
        const builder = new TableBuilder();
        const revision = await streamSnapshot(sql, builder);
        table.install(builder, revision);
        const loadedAt = performance.now();
        // A large build leaves the heap grown around the rows it read: give the memory back now.
        const compacted = table.keyCount >= COMPACT_AFTER_KEYS && compactHeap();
        log.info(
          { revision, keys: table.keyCount, deployments: table.deploymentCount, ms: Math.round(loadedAt - startedAt), ...(compacted ? { compactMs: Math.round(performance.now() - loadedAt) } : {}) },
          'snapshot loaded',
        );
        return revision;
      },
      apply: (event) => void table.applyChange(event),
      pollIntervalMs: options.pollIntervalMs,
      maxStalenessMs: options.maxStalenessMs,
      log,
    });

  const ready = (async () => {
    while (!stopped) {
      const candidate = newConsumer();
      try {
        await candidate.start();
        consumer = candidate;
        sync = await startProxySync({ feed, consumer: candidate, proxyId: options.proxyId, leaseMs: options.leaseMs, log });
        log.info({ revision: candidate.applied, proxyId: options.proxyId }, 'proxy ready');
        return;
      } catch (error) {
        await candidate.stop().catch(() => {});
        log.warn({ err: (error as Error).message }, 'cannot load the snapshot yet; staying not_ready');
        await new Promise((r) => setTimeout(r, options.pollIntervalMs));
      }
    }
  })();

  return {
    status: () => (consumer ? consumer.status() : 'not_ready'),
    async stop() {
      stopped = true;
      await ready.catch(() => {});
      await (sync as ProxySync | null)?.stop();
      await (consumer as FeedConsumer | null)?.stop();
    },
  };
}
