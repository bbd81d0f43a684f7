// One of the Redis feed's two connections (commands, subscription). Commands never wait for a
// dead Redis: no offline queue, no retries of in-flight commands, a command timeout; the
// connection reconnects by itself with backoff, and one that stops answering is dropped so it
// reconnects.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

export class FeedUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedUnavailableError';
  }
}

export interface ConnectionOptions {
  url: string;
  log: Logger;
  role: 'cmd' | 'sub';
  /** the name in CLIENT LIST */
  connectionName: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  maxReconnectDelayMs: number;
  /** the feed was closed: its connections' errors and closes are expected */
  closed: () => boolean;
  scripts?: RedisOptions['scripts'];
}

export interface FeedConnection<C extends Redis = Redis> {
  redis: C;
  /**
   * Resolves when the connection is ready. Rejects at once when it is known to be down, and
   * after connectTimeoutMs while the first connection is still being made.
   */
  whenReady(): Promise<void>;
  /** Drops a connection that stopped answering; ioredis then reconnects it. */
  reconnect(): void;
  /** Runs a command once the connection is ready; a timeout drops the connection. */
  command<T>(run: () => Promise<T>): Promise<T>;
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
export const isTimeout = (error: unknown) => /timed out/i.test(errorMessage(error));

const redisAddress = (url: string) => {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port || 6379}`;
};

export function openConnection<C extends Redis = Redis>(options: ConnectionOptions): FeedConnection<C> {
  const { log, role, closed, connectTimeoutMs, maxReconnectDelayMs } = options;
  const redis = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxReconnectDelayMs) + Math.floor(Math.random() * 100),
    connectionName: options.connectionName,
    ...(options.scripts ? { scripts: options.scripts } : {}),
  }) as C;

  // ready, down (failed since its last ready), and a waiter for the first connect
  const state: { everReady: boolean; down: boolean; waiting: Promise<void> | null } = { everReady: false, down: false, waiting: null };
  redis.on('ready', () => {
    if (state.down || state.everReady) log.info({ role }, 'redis feed connection restored');
    state.down = false;
    state.everReady = true;
  });
  redis.on('error', (error: Error) => {
    if (closed()) return;
    // Named after the variable to check; the address only, never a password in the URL.
    if (!state.down) log.warn({ role, err: error.message, redis: redisAddress(options.url) }, 'cannot connect to Redis (REDIS_URL); reconnecting');
    else log.debug({ role, err: error.message }, 'redis feed connection still failing');
    state.down = true;
  });
  redis.on('close', () => {
    if (closed()) return;
    if (!state.down && state.everReady) log.warn({ role }, 'redis feed connection closed; reconnecting');
    state.down = true;
  });

  function whenReady(): Promise<void> {
    if (closed()) return Promise.reject(new FeedUnavailableError('the feed is closed'));
    if (redis.status === 'ready') return Promise.resolve();
    if (state.down) return Promise.reject(new FeedUnavailableError(`redis is unavailable (${redis.status})`));
    // One waiter per connection, shared by every command issued meanwhile.
    state.waiting ??= new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        redis.off('error', onError);
        redis.off('end', onError);
        state.waiting = null;
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      const onError = (error?: Error) => done(new FeedUnavailableError(`redis is unavailable: ${error?.message ?? 'connection ended'}`));
      const timer = setTimeout(() => done(new FeedUnavailableError('redis is unavailable: connect timeout')), connectTimeoutMs);
      redis.on('ready', onReady);
      redis.on('error', onError);
      redis.on('end', onError);
    });
    return state.waiting;
  }

  function reconnect(): void {
    if (closed() || redis.status !== 'ready') return;
    log.warn({ role }, 'redis feed connection unresponsive; reconnecting');
    redis.disconnect(true);
  }

  return {
    redis,
    whenReady,
    reconnect,
    async command(run) {
      await whenReady();
      try {
        return await run();
      } catch (error) {
        if (isTimeout(error)) reconnect();
        throw error;
      }
    },
  };
}

/** Quits a connection politely (at most a second), then drops it for good. */
export async function closeConnection(redis: Redis): Promise<void> {
  try {
    if (redis.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([redis.quit(), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]).finally(() => clearTimeout(timer));
    }
  } catch {
    // closing anyway
  }
  redis.disconnect();
  redis.removeAllListeners();
  // ioredis emits 'error' on a closed client in rare cases; never crash on it.
  redis.on('error', () => {});
}
