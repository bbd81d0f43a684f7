// The change feed over Redis (docs: change-feed protocol): events on `${prefix}changes`, the fleet's
// aggregated acks on `${prefix}fleet`, the proxies' usage batches on `${prefix}usage` (live only, no catch-up); proxy leases and acks are redis-leases.ts, each connection's resilience
// redis-connection.ts. This file is the publish/subscribe transport.
//
// Two connections: one for commands and publishing, one for the subscription. Every reconnect of
// the subscriber (after the first ready) re-subscribes, then tells each handler to catch up from
// the log.
import type { Logger } from 'pino';
import type { Feed, FeedHandlers, Unsubscribe } from './feed.ts';
import { closeConnection, errorMessage, isTimeout, openConnection } from './redis-connection.ts';
import { LEASE_SCRIPTS, type LeaseConnection, leaseKeys, redisLeases } from './redis-leases.ts';
import { parseChangeEvent, parseFleetFloor, parseUsageBatch } from './wire.ts';
import type { UsageBatch } from '../usage/usage-update.ts';

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

export function createRedisFeed(options: RedisFeedOptions): Feed {
  const { url, prefix, log } = options;
  const name = options.connectionName ?? 'keygate-feed';
  const healthCheckMs = options.healthCheckMs ?? 5000;

  const keys = {
    changes: `${prefix}changes`,
    usage: `${prefix}usage`,
    ...leaseKeys(prefix),
  };

  let closed = false;
  const handlers = new Set<FeedHandlers>();
  const fleetListeners = new Set<(floor: number, live: number) => void>();
  const usageListeners = new Set<(batch: UsageBatch) => void>();

  const connection = {
    url,
    log,
    commandTimeoutMs: options.commandTimeoutMs ?? 2000,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    maxReconnectDelayMs: options.maxReconnectDelayMs ?? 2000,
    closed: () => closed,
  };
  const cmd = openConnection<LeaseConnection>({ ...connection, role: 'cmd', connectionName: `${name}:cmd`, scripts: LEASE_SCRIPTS });
  const subscriber = openConnection({ ...connection, role: 'sub', connectionName: `${name}:sub` });
  const sub = subscriber.redis;

  // Subscriptions: the changes channel on the first subscribe(), the fleet channel on the first
  // onFleetApplied() and the usage channel on the first onUsage(), so a proxy that never listens to
  // the fleet or usage does not receive them.
  const wanted = new Set<string>();
  const active = new Set<string>();
  const subscribing = new Map<string, Promise<void>>();

  function ensureSubscribed(channel: string): Promise<void> {
    wanted.add(channel);
    if (active.has(channel) && sub.status === 'ready') return Promise.resolve();
    let pending = subscribing.get(channel);
    if (!pending) {
      pending = (async () => {
        await subscriber.whenReady();
        await sub.subscribe(channel);
        active.add(channel);
      })().finally(() => subscribing.delete(channel));
      subscribing.set(channel, pending);
    }
    return pending;
  }

  /** Calls `call` for each of `targets`; one that throws is logged and the others still run. */
  function tellEach<T>(targets: Set<T>, call: (target: T) => void, failed: string, context: Record<string, unknown> = {}) {
    for (const target of [...targets]) {
      try {
        call(target);
      } catch (error) {
        log.error({ ...context, err: errorMessage(error) }, failed);
      }
    }
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
        tellEach(handlers, (h) => h.onReconnect?.(), 'change feed reconnect handler failed');
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
    tellEach(handlers, (h) => h.onDisconnect?.(), 'change feed disconnect handler failed');
  });

  // A subscriber connection gives no sign of life when it is half-open: ask it.
  const healthTimer = setInterval(() => {
    if (closed || sub.status !== 'ready' || active.size === 0) return;
    sub.ping().catch((error: unknown) => {
      if (isTimeout(error)) subscriber.reconnect();
    });
  }, Math.max(50, healthCheckMs));
  healthTimer.unref();

  sub.on('message', (channel: string, message: string) => {
    if (closed) return;
    if (channel === keys.changes) {
      const event = parseChangeEvent(message);
      if (!event) {
        log.warn({ channel, bytes: message.length }, 'ignoring a malformed change-feed message');
        return;
      }
      tellEach(handlers, (h) => h.onEvent(event), 'change feed handler failed', { revision: event.revision });
    } else if (channel === keys.fleet) {
      const fleet = parseFleetFloor(message);
      if (!fleet) {
        log.warn({ channel, bytes: message.length }, 'ignoring a malformed fleet message');
        return;
      }
      tellEach(fleetListeners, (l) => l(fleet.floor, fleet.live), 'fleet listener failed');
    } else if (channel === keys.usage) {
      const batch = parseUsageBatch(message);
      if (!batch) {
        log.warn({ channel, bytes: message.length }, 'ignoring a malformed usage message');
        return;
      }
      tellEach(usageListeners, (l) => l(batch), 'usage listener failed');
    }
  });

  // waitForPropagation listens to the fleet, then reads it: make sure the listener hears every
  // announcement made after this read.
  const leases = redisLeases(cmd, keys, async () => {
    if (fleetListeners.size > 0 && !active.has(keys.fleet)) await ensureSubscribed(keys.fleet).catch(() => {});
  });

  return {
    kind: 'redis',
    ...leases,

    async publish(event) {
      await cmd.command(() => cmd.redis.publish(keys.changes, JSON.stringify(event)));
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

    onFleetApplied(listener) {
      fleetListeners.add(listener);
      // Needs the subscription too; a listener added while Redis is down starts hearing the
      // fleet once it is back (waitForPropagation then relies on its reads).
      ensureSubscribed(keys.fleet).catch((error: unknown) => log.debug({ err: errorMessage(error) }, 'fleet subscription not active yet'));
      return () => {
        fleetListeners.delete(listener);
      };
    },

    async publishUsage(batch) {
      await cmd.command(() => cmd.redis.publish(keys.usage, JSON.stringify(batch)));
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
      fleetListeners.clear();
      usageListeners.clear();
      await Promise.all([closeConnection(cmd.redis), closeConnection(sub)]);
    },
  };
}
