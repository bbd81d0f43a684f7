// Wires the data plane of one process (`keygate start` and `keygate proxy`): the auth table, the
// proxy server in front of it, the sync that keeps it current from the change feed, and either
// usage metering (whose flush carries lastUsedAt) or, with metering off, the lastUsedAt flusher:
// one writer of last_used_at either way.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import type { Config } from '../config/config.ts';
import type { Sql } from '../db/sql.ts';
import type { Feed } from '../feed/feed.ts';
import { AuthTable } from '../proxy/auth-table.ts';
import { startLastUsedFlusher } from '../proxy/last-used.ts';
import { createProxyServer, type ProxyServerConfig } from '../proxy/proxy-server.ts';
import { addUsage } from '../db/statements/index.ts';
import { UsageAggregator } from '../usage/aggregator.ts';
import { startUsageFlusher } from '../usage/flusher.ts';
import { createStatusServer } from '../proxy/status-server.ts';
import { startTableSync, type TableSync } from '../proxy/table-sync.ts';
import type { RateLimiter } from '../ratelimit/limiter.ts';
import { startRateLimits } from '../ratelimit/rate-limits.ts';
import type { Logger } from './logger.ts';

export interface DataPlane {
  port: number;
  /** the status listener's port (/metrics) */
  statusPort: number;
  proxyId: string;
  table: AuthTable;
  /** the in-process rate-limit counts (what rateLimitUsage reads without Redis) */
  rateLimiter: RateLimiter;
  stop(): Promise<void>;
}

export async function startDataPlane(deps: {
  config: Config;
  /** the change log and lastUsedAt: a pg pool in a proxy process, Prisma in `keygate start` */
  sql: Sql;
  feed: Feed;
  log: Logger;
  /** client-side timeouts of the proxy server (tests shorten them) */
  client?: ProxyServerConfig['client'];
}): Promise<DataPlane> {
  const { config, sql, feed } = deps;
  const log = deps.log.child({ component: 'proxy' });
  const proxyId = randomUUID();
  const table = new AuthTable();
  const registry = new Registry();
  let sync: TableSync | null = null;
  const usage = config.usageMetering ? new UsageAggregator() : undefined;
  // Counts shared through Redis when the feed is (replicas), in process otherwise.
  const rateLimits = startRateLimits({
    redis: feed.kind === 'redis' && config.redisUrl ? { url: config.redisUrl, prefix: config.redisPrefix } : null,
    windowMs: config.rateLimitWindowMs,
    syncMs: config.rateLimitSyncMs,
    proxyId,
    limitsOf: (keyId) => table.rateLimitOf(keyId),
    log: deps.log,
    registry,
  });

  const proxy = createProxyServer({
    table,
    config: {
      host: config.host,
      port: config.proxyPort,
      baseDomain: config.baseDomain,
      upstream: config.upstream,
      maxConnections: config.proxyMaxConnections,
      accessLog: config.accessLog,
      client: deps.client,
    },
    log: deps.log, // the server names its own component
    registry,
    status: () => sync?.status() ?? 'not_ready',
    usage,
    rateLimiter: rateLimits.limiter,
  });
  const { port } = await proxy.start().catch(async (error: unknown) => {
    await rateLimits.stop();
    throw error;
  });
  const statusServer = createStatusServer({ ...config.status, registry, log: deps.log });
  const statusPort = await statusServer.start().then(
    (s) => s.port,
    async (error: unknown) => {
      await proxy.stop(0);
      await rateLimits.stop();
      throw error;
    },
  );
  const started = startTableSync({
    table,
    sql,
    feed,
    proxyId,
    pollIntervalMs: config.pollIntervalMs,
    maxStalenessMs: config.maxStalenessMs,
    leaseMs: config.proxyLeaseMs,
    log,
    onLag: (revisions) => proxy.metrics.setFeedLag(revisions),
  });
  sync = started;
  const flusher = usage
    ? startUsageFlusher({ aggregator: usage, write: (rows) => addUsage(sql, rows), publish: (batch) => feed.publishUsage(batch), log, registry })
    : startLastUsedFlusher(table, sql, log);

  return {
    port,
    statusPort,
    proxyId,
    table,
    rateLimiter: rateLimits.limiter,
    async stop() {
      await proxy.stop(config.drainMs);
      await rateLimits.stop();
      await statusServer.stop();
      await started.stop();
      // After the drain: the last requests' counts (and lastUsedAt) go out with this flush.
      await flusher.stop();
    },
  };
}
