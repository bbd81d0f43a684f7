// Starts a process's rate-limit parts: the limiter the proxy asks on every request and, with Redis,
// the background sync that shares its counts with the other proxies (and its own connection, so
// the sync never queues behind the change feed's commands); and the reader the control plane
// answers rateLimitUsage from.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { closeConnection, openConnection } from '../feed/redis-connection.ts';
import { type Limits, RateLimiter } from './limiter.ts';
import { RATE_LIMIT_SCRIPTS, type RateLimitConnection, startRateLimitSync } from './redis-sync.ts';
import { redisUsageSource, type RateLimitUsageSource } from './usage-reader.ts';

export interface RedisSettings {
  url: string;
  prefix: string;
}

// How often the embedded mode forgets keys whose windows are empty.
const SWEEP_MS = 10_000;
// As the change feed's: a slow reply on a loaded machine is not an outage.
const TIMEOUTS = { commandTimeoutMs: 2000, connectTimeoutMs: 2000, maxReconnectDelayMs: 1000 };

export function startRateLimits(options: {
  /** null: counts stay in process (embedded mode) */
  redis: RedisSettings | null;
  windowMs: number;
  syncMs: number;
  proxyId: string;
  limitsOf: (keyId: string) => Limits | null;
  log: Logger;
  registry: Registry;
}): { limiter: RateLimiter; stop(): Promise<void> } {
  const limiter = new RateLimiter({ windowMs: options.windowMs });
  if (options.redis === null) {
    limiter.proxies = 1;
    const sweeper = setInterval(() => limiter.sweep(), SWEEP_MS);
    sweeper.unref();
    return { limiter, stop: () => Promise.resolve(clearInterval(sweeper)) };
  }
  let closed = false;
  const log = options.log.child({ component: 'ratelimit' });
  const connection = openConnection<RateLimitConnection>({
    url: options.redis.url,
    log,
    role: 'cmd',
    connectionName: 'keygate-ratelimit',
    ...TIMEOUTS,
    closed: () => closed,
    scripts: RATE_LIMIT_SCRIPTS,
  });
  const sync = startRateLimitSync({
    limiter,
    connection,
    prefix: options.redis.prefix,
    proxyId: options.proxyId,
    limitsOf: options.limitsOf,
    log,
    registry: options.registry,
    syncMs: options.syncMs,
  });
  return {
    limiter,
    async stop() {
      await sync.stop();
      closed = true;
      await closeConnection(connection.redis);
    },
  };
}

/** The control plane's reader of the counts the proxies share in Redis. */
export function openRedisUsageSource(redis: RedisSettings, windowMs: number, log: Logger): RateLimitUsageSource {
  let closed = false;
  const connection = openConnection({ url: redis.url, log, role: 'cmd', connectionName: 'keygate-ratelimit-read', ...TIMEOUTS, closed: () => closed });
  return redisUsageSource(connection, redis.prefix, windowMs, async () => {
    closed = true;
    await closeConnection(connection.redis);
  });
}
