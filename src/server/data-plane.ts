// The data plane of one process: the auth table, the feed consumer that keeps it current, the
// lease and acks that let mutations confirm, usage metering (with lastUsedAt) or lastUsedAt
// batching alone, and the proxy server in front.
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.ts';
import type { Sql } from '../db/queries.ts';
import { readSnapshot } from '../domain/change-log.ts';
import { changeLogSource, type ChangeSource, FeedConsumer } from '../feed/consumer.ts';
import type { Feed } from '../feed/feed.ts';
import { startProxySync, type ProxySync } from '../feed/lease.ts';
import { AuthTable } from '../proxy/auth-table.ts';
import { createProxyServer, type ProxyServerConfig } from '../proxy/proxy-server.ts';
import { addUsage } from '../db/statements/usage.ts';
import { UsageAggregator } from '../usage/aggregator.ts';
import { startUsageFlusher, type UsageFlusher } from '../usage/flusher.ts';
import { every } from './background.ts';
import type { Logger } from './logger.ts';

/** lastUsedAt is flushed in batches, never written per request (DESIGN.md: at least every 10 s). */
const LAST_USED_FLUSH_MS = 5_000;

export interface DataPlane {
  port: number;
  proxyId: string;
  table: AuthTable;
  stop(): Promise<void>;
}

export interface DataPlaneDeps {
  config: Config;
  /** the change log and lastUsedAt: a pg pool in a proxy process, Prisma in `keygate start` */
  sql: Sql;
  feed: Feed;
  log: Logger;
  registry: Registry;
  /** client-side timeouts of the proxy server (tests shorten them) */
  client?: ProxyServerConfig['client'];
  /** how often usage is flushed (default and maximum 5 s; tests shorten it) */
  usageFlushMs?: number;
}

export async function startDataPlane(deps: DataPlaneDeps): Promise<DataPlane> {
  const { config, sql, feed, registry } = deps;
  const log = deps.log.child({ component: 'proxy' });
  const proxyId = randomUUID();
  const table = new AuthTable();
  let consumer: FeedConsumer | null = null;
  let stopped = false;
  const usage = config.usageMetering ? new UsageAggregator() : undefined;

  const proxy = createProxyServer({
    table,
    config: { host: config.host, port: config.proxyPort, baseDomain: config.baseDomain, upstream: config.upstream, client: deps.client },
    log: deps.log, // the server names its own component
    registry,
    status: () => (consumer ? consumer.status() : 'not_ready'),
    usage,
  });
  const { port } = await proxy.start();

  // The head the consumer polls also feeds the lag gauge (head − applied).
  const changeLog = changeLogSource(sql);
  const source: ChangeSource = {
    ...changeLog,
    head: async () => {
      const head = await changeLog.head();
      proxy.metrics.setFeedLag(Math.max(0, head - table.revision));
      return head;
    },
  };

  const newConsumer = () =>
    new FeedConsumer({
      feed,
      source,
      initialize: async () => {
        const snapshot = await readSnapshot(sql);
        table.load(snapshot);
        return snapshot.revision;
      },
      apply: (event) => void table.applyChange(event),
      pollIntervalMs: config.pollIntervalMs,
      maxStalenessMs: config.maxStalenessMs,
      log,
    });

  // A proxy that cannot load its first snapshot stays not_ready and keeps trying.
  let sync: ProxySync | null = null;
  const ready = (async () => {
    while (!stopped) {
      const candidate = newConsumer();
      try {
        await candidate.start();
        consumer = candidate;
        sync = await startProxySync({ feed, consumer: candidate, proxyId, leaseMs: config.proxyLeaseMs, log });
        log.info({ revision: candidate.applied, proxyId }, 'proxy ready');
        return;
      } catch (error) {
        await candidate.stop().catch(() => {});
        log.warn({ err: (error as Error).message }, 'cannot load the snapshot yet; staying not_ready');
        await new Promise((r) => setTimeout(r, config.pollIntervalMs));
      }
    }
  })();

  const flushLastUsed = async () => {
    const used = table.drainUsed();
    if (used.size === 0) return;
    try {
      await sql.execute('UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1::uuid[])', [[...used]]);
    } catch (error) {
      for (const id of used) table.recordUse(id); // try again next time
      log.warn({ err: (error as Error).message, keys: used.size }, 'could not record lastUsedAt');
    }
  };
  const stopFlusher = every(LAST_USED_FLUSH_MS, flushLastUsed);
  const usageFlusher: UsageFlusher | null = usage
    ? startUsageFlusher({
        aggregator: usage,
        write: (rows) => addUsage(sql, rows),
        publish: (batch) => feed.publishUsage(batch),
        log,
        registry,
        intervalMs: deps.usageFlushMs,
      })
    : null;

  return {
    port,
    proxyId,
    table,
    async stop() {
      stopped = true;
      await proxy.stop(config.production ? 10_000 : 1_000);
      await ready.catch(() => {});
      await (sync as ProxySync | null)?.stop();
      await consumer?.stop();
      await stopFlusher();
      await flushLastUsed();
      // After the drain: the last requests' counts go out with this flush.
      await usageFlusher?.stop();
    },
  };
}
