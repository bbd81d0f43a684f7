// The change feed over Redis (DESIGN.md, change-feed protocol): events on `${prefix}changes`,
// acks on `${prefix}acks`, usage batches on `${prefix}usage`, proxy leases in `${prefix}proxies:leases` (a ZSET of proxy ids scored
// by expiry) and `${prefix}proxies:applied` (a HASH of their applied revisions). Lease expiry is
// judged by the Redis server's clock (TIME inside Lua scripts), so clock skew between machines
// does not matter.
//
// Two connections: one for commands and publishing, one for the subscription. Commands never
// wait for a dead Redis: no offline queue, no retries of in-flight commands, a command timeout;
// both connections reconnect by themselves with backoff. Every reconnect of the subscriber
// (after the first ready) re-subscribes, then tells each handler to catch up from the log.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { CHANGE_TYPES, type ChangeEvent } from './events.ts';
import type { Feed, FeedHandlers, Unsubscribe } from './feed.ts';
import { parseUsageBatch, type UsageBatch } from '../usage/usage-update.ts';

export interface RedisFeedOptions {
  url: string;
  /** prefix of every key and channel, e.g. `keygate:` */
  prefix: string;
  log: Logger;
  /** a command without a reply in this time rejects; default 2000 */
  commandTimeoutMs?: number;
  /** how long a command waits for the very first connection; default 2000 */
  connectTimeoutMs?: number;
  /** names the two connections `${name}:cmd` and `${name}:sub` in CLIENT LIST; default `keygate-feed` */
  connectionName?: string;
  /** longest delay between reconnect attempts; default 2000 */
  maxReconnectDelayMs?: number;
  /**
   * how often the subscriber connection is PINGed; one that does not answer within the command
   * timeout (a half-open connection) is dropped and reconnected, which triggers a catch-up;
   * default 5000
   */
  healthCheckMs?: number;
}

export class FeedUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedUnavailableError';
  }
}

// Milliseconds on the Redis server's clock.
const NOW_MS = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// Removes expired leases and their applied revisions. Needs KEYS[1] = leases, KEYS[2] = applied.
const PRUNE = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
`;

// Keeps both keys alive at least as long as the longest lease (abandoned prefixes vanish).
const KEEP_KEYS = `
local keep = tonumber(ARGV[3]) * 2 + 60000
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) < keep then redis.call('PEXPIRE', key, keep) end
end
`;

const SCRIPTS = {
  // KEYS: leases, applied; ARGV: proxyId, applied, ttlMs
  keygateRenewLease: {
    numberOfKeys: 2,
    lua: `${NOW_MS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
${PRUNE}
${KEEP_KEYS}
return 1`,
  },
  // KEYS: leases, applied; ARGV: proxyId
  keygateDropLease: {
    numberOfKeys: 2,
    lua: `redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1`,
  },
  // KEYS: leases, applied; ARGV: proxyId, revision, channel, message
  // Records the revision (cumulative: only if greater, only while the proxy holds a lease),
  // then publishes the ack: a reader of the leases never sees an older revision than an ack
  // it already received.
  keygateAck: {
    numberOfKeys: 2,
    lua: `if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
  if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
end
return redis.call('PUBLISH', ARGV[3], ARGV[4])`,
  },
  // KEYS: leases, applied; returns [id, applied, id, applied, ...] of unexpired leases
  keygateLiveProxies: {
    numberOfKeys: 2,
    lua: `${NOW_MS}
${PRUNE}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id) or '0'
end
return out`,
  },
} as const;

interface ScriptCommands {
  keygateRenewLease(leases: string, applied: string, proxyId: string, revision: number, ttlMs: number): Promise<unknown>;
  keygateDropLease(leases: string, applied: string, proxyId: string): Promise<unknown>;
  keygateAck(leases: string, applied: string, proxyId: string, revision: number, channel: string, message: string): Promise<unknown>;
  keygateLiveProxies(leases: string, applied: string): Promise<unknown>;
}

type Connection = Redis & ScriptCommands;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRevision = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const changeTypes: ReadonlySet<string> = new Set(CHANGE_TYPES);

/** A JSON object from the wire, or null when the text is not one. */
function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** A change event from the wire, or null when it is not one. */
export function parseChangeEvent(text: string): ChangeEvent | null {
  const value = parseObject(text);
  if (!value) return null;
  const { revision, projectId, type, actor, at, payload } = value;
  if (!isRevision(revision) || revision < 1) return null;
  if (typeof projectId !== 'string' || typeof type !== 'string' || !changeTypes.has(type)) return null;
  if (actor !== null && typeof actor !== 'string') return null;
  if (typeof at !== 'string' || !isObject(payload)) return null;
  return value as unknown as ChangeEvent;
}

function parseAck(text: string): { proxyId: string; revision: number } | null {
  const value = parseObject(text);
  if (!value) return null;
  const { proxyId, revision } = value;
  if (typeof proxyId !== 'string' || proxyId === '' || !isRevision(revision)) return null;
  return { proxyId, revision };
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function createRedisFeed(options: RedisFeedOptions): Feed {
  const { url, prefix, log } = options;
  const commandTimeoutMs = options.commandTimeoutMs ?? 2000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 2000;
  const name = options.connectionName ?? 'keygate-feed';
  const healthCheckMs = options.healthCheckMs ?? 5000;

  const keys = {
    changes: `${prefix}changes`,
    acks: `${prefix}acks`,
    usage: `${prefix}usage`,
    leases: `${prefix}proxies:leases`,
    applied: `${prefix}proxies:applied`,
  };

  const baseOptions: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxReconnectDelayMs) + Math.floor(Math.random() * 100),
  };

  let closed = false;
  const handlers = new Set<FeedHandlers>();
  const ackListeners = new Set<(proxyId: string, revision: number) => void>();
  const usageListeners = new Set<(batch: UsageBatch) => void>();

  /** Tracks one connection: ready, down (failed since its last ready), and a waiter for the first connect. */
  function track(conn: Redis, role: 'cmd' | 'sub') {
    const state: { everReady: boolean; down: boolean; waiting: Promise<void> | null } = { everReady: false, down: false, waiting: null };
    conn.on('ready', () => {
      if (state.down || state.everReady) log.info({ role }, 'redis feed connection restored');
      state.down = false;
      state.everReady = true;
    });
    conn.on('error', (error: Error) => {
      if (closed) return;
      if (!state.down) log.warn({ role, err: error.message }, 'redis feed connection failed; reconnecting');
      else log.debug({ role, err: error.message }, 'redis feed connection still failing');
      state.down = true;
    });
    conn.on('close', () => {
      if (closed) return;
      if (!state.down && state.everReady) log.warn({ role }, 'redis feed connection closed; reconnecting');
      state.down = true;
    });
    return state;
  }

  const cmd = new Redis(url, { ...baseOptions, connectionName: `${name}:cmd`, scripts: SCRIPTS }) as Connection;
  const sub = new Redis(url, { ...baseOptions, connectionName: `${name}:sub` });
  const cmdState = track(cmd, 'cmd');
  const subState = track(sub, 'sub');

  /**
   * Resolves when the connection is ready. Rejects at once when it is known to be down, and
   * after connectTimeoutMs while the first connection is still being made.
   */
  function whenReady(conn: Redis, state: { down: boolean; waiting: Promise<void> | null }): Promise<void> {
    if (closed) return Promise.reject(new FeedUnavailableError('the feed is closed'));
    if (conn.status === 'ready') return Promise.resolve();
    if (state.down) return Promise.reject(new FeedUnavailableError(`redis is unavailable (${conn.status})`));
    // One waiter per connection, shared by every command issued meanwhile.
    state.waiting ??= new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        conn.off('ready', onReady);
        conn.off('error', onError);
        conn.off('end', onError);
        state.waiting = null;
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      const onError = (error?: Error) => done(new FeedUnavailableError(`redis is unavailable: ${error?.message ?? 'connection ended'}`));
      const timer = setTimeout(() => done(new FeedUnavailableError('redis is unavailable: connect timeout')), connectTimeoutMs);
      conn.on('ready', onReady);
      conn.on('error', onError);
      conn.on('end', onError);
    });
    return state.waiting;
  }

  const isTimeout = (error: unknown) => /timed out/i.test(errorMessage(error));

  /** Drops a connection that stopped answering; ioredis then reconnects it. */
  function reconnect(conn: Redis, role: 'cmd' | 'sub') {
    if (closed || conn.status !== 'ready') return;
    log.warn({ role }, 'redis feed connection unresponsive; reconnecting');
    conn.disconnect(true);
  }

  async function command<T>(run: () => Promise<T>): Promise<T> {
    await whenReady(cmd, cmdState);
    try {
      return await run();
    } catch (error) {
      if (isTimeout(error)) reconnect(cmd, 'cmd');
      throw error;
    }
  }

  // Subscriptions: the changes channel on the first subscribe(), the acks channel on the first
  // onAck(), so a proxy that never listens to acks does not receive them.
  const wanted = new Set<string>();
  const active = new Set<string>();
  const subscribing = new Map<string, Promise<void>>();

  function ensureSubscribed(channel: string): Promise<void> {
    wanted.add(channel);
    if (active.has(channel) && sub.status === 'ready') return Promise.resolve();
    let pending = subscribing.get(channel);
    if (!pending) {
      pending = (async () => {
        await whenReady(sub, subState);
        await sub.subscribe(channel);
        active.add(channel);
      })().finally(() => subscribing.delete(channel));
      subscribing.set(channel, pending);
    }
    return pending;
  }

  let subReadies = 0;
  sub.on('ready', () => {
    subReadies += 1;
    if (closed || wanted.size === 0) return;
    // After a reconnect messages may have been missed. Subscribe again first, then let every
    // handler catch up, so nothing published after the catch-up's read is missed. (On the
    // first ready this subscribes channels asked for while Redis was unreachable.)
    const reconnected = subReadies > 1;
    const channels = [...wanted];
    sub.subscribe(...channels).then(
      () => {
        for (const c of channels) active.add(c);
        if (!reconnected || !wanted.has(keys.changes)) return;
        log.info({ handlers: handlers.size }, 'change feed re-subscribed after a reconnect; catching up');
        for (const h of [...handlers]) {
          try {
            h.onReconnect?.();
          } catch (error) {
            log.error({ err: errorMessage(error) }, 'change feed reconnect handler failed');
          }
        }
      },
      (error: unknown) => {
        // The connection dropped again: the next ready tries again.
        log.warn({ err: errorMessage(error) }, 'change feed re-subscribe failed');
      },
    );
  });

  sub.on('close', () => {
    const hadChanges = active.has(keys.changes);
    active.clear();
    if (closed || !hadChanges) return;
    for (const h of [...handlers]) {
      try {
        h.onDisconnect?.();
      } catch (error) {
        log.error({ err: errorMessage(error) }, 'change feed disconnect handler failed');
      }
    }
  });

  // A subscriber connection gives no sign of life when it is half-open: ask it.
  const healthTimer = setInterval(() => {
    if (closed || sub.status !== 'ready' || active.size === 0) return;
    sub.ping().catch((error: unknown) => {
      if (isTimeout(error)) reconnect(sub, 'sub');
    });
  }, Math.max(50, healthCheckMs));
  healthTimer.unref();

  /** Hands a usage batch to the control plane's listeners; one that throws does not stop the rest. */
  function deliverUsage(message: string) {
    const batch = parseUsageBatch(message);
    if (!batch) return void log.warn({ channel: keys.usage, bytes: message.length }, 'ignoring a malformed usage message');
    for (const listener of [...usageListeners]) {
      try {
        listener(batch);
      } catch (error) {
        log.error({ err: errorMessage(error) }, 'usage listener failed');
      }
    }
  }

  sub.on('message', (channel: string, message: string) => {
    if (closed) return;
    if (channel === keys.changes) {
      const event = parseChangeEvent(message);
      if (!event) {
        log.warn({ channel, bytes: message.length }, 'ignoring a malformed change-feed message');
        return;
      }
      for (const h of [...handlers]) {
        try {
          h.onEvent(event);
        } catch (error) {
          log.error({ revision: event.revision, err: errorMessage(error) }, 'change feed handler failed');
        }
      }
    } else if (channel === keys.usage) {
      deliverUsage(message);
    } else if (channel === keys.acks) {
      const ack = parseAck(message);
      if (!ack) {
        log.warn({ channel, bytes: message.length }, 'ignoring a malformed ack message');
        return;
      }
      for (const l of [...ackListeners]) {
        try {
          l(ack.proxyId, ack.revision);
        } catch (error) {
          log.error({ err: errorMessage(error) }, 'ack listener failed');
        }
      }
    }
  });

  return {
    kind: 'redis',

    async publish(event) {
      await command(() => cmd.publish(keys.changes, JSON.stringify(event)));
    },

    async subscribe(h): Promise<Unsubscribe> {
      handlers.add(h);
      try {
        await ensureSubscribed(keys.changes);
      } catch (error) {
        handlers.delete(h);
        throw error;
      }
      return async () => {
        handlers.delete(h);
      };
    },

    async renewLease(proxyId, applied, ttlMs) {
      await command(() => cmd.keygateRenewLease(keys.leases, keys.applied, proxyId, applied, Math.max(1, Math.round(ttlMs))));
    },

    async dropLease(proxyId) {
      await command(() => cmd.keygateDropLease(keys.leases, keys.applied, proxyId));
    },

    async ack(proxyId, revision) {
      const message = JSON.stringify({ proxyId, revision });
      await command(() => cmd.keygateAck(keys.leases, keys.applied, proxyId, revision, keys.acks, message));
    },

    async liveProxies() {
      // waitForPropagation listens for acks, then reads the leases: make sure the listener
      // hears every ack published after this read.
      if (ackListeners.size > 0 && !active.has(keys.acks)) await ensureSubscribed(keys.acks).catch(() => {});
      const reply = await command(() => cmd.keygateLiveProxies(keys.leases, keys.applied));
      const live = new Map<string, number>();
      if (!Array.isArray(reply)) return live;
      for (let i = 0; i + 1 < reply.length; i += 2) {
        const revision = Number(String(reply[i + 1]));
        live.set(String(reply[i]), Number.isFinite(revision) ? revision : 0);
      }
      return live;
    },

    onAck(listener) {
      ackListeners.add(listener);
      // Acks need the subscription too; a listener added while Redis is down starts hearing
      // them once it is back (waitForPropagation then relies on the leases' revisions).
      ensureSubscribed(keys.acks).catch((error: unknown) => log.debug({ err: errorMessage(error) }, 'ack subscription not active yet'));
      return () => {
        ackListeners.delete(listener);
      };
    },

    async publishUsage(batch) {
      await command(() => cmd.publish(keys.usage, JSON.stringify(batch)));
    },

    onUsage(listener) {
      usageListeners.add(listener);
      ensureSubscribed(keys.usage).catch((error: unknown) => log.debug({ err: errorMessage(error) }, 'usage subscription not active yet'));
      return () => {
        usageListeners.delete(listener);
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(healthTimer);
      handlers.clear();
      usageListeners.clear();
      ackListeners.clear();
      await Promise.all(
        [cmd, sub].map(async (conn) => {
          try {
            if (conn.status === 'ready') {
              let timer: NodeJS.Timeout | undefined;
              await Promise.race([conn.quit(), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))]).finally(() => clearTimeout(timer));
            }
          } catch {
            // closing anyway
          }
          conn.disconnect();
          conn.removeAllListeners();
          // ioredis emits 'error' on a closed client in rare cases; never crash on it.
          conn.on('error', () => {});
        }),
      );
    },
  };
}
