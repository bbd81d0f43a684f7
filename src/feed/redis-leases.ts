// Proxy leases and acks on Redis (docs: change-feed protocol, step 4): `${prefix}proxies:leases`
// (a ZSET of proxy ids scored by expiry) and `${prefix}proxies:applied` (a HASH of their applied
// revisions); acks are published on `${prefix}acks`. Lease expiry is judged by the Redis server's
// clock (TIME inside Lua scripts), so clock skew between machines does not matter.
import type { Redis } from 'ioredis';
import type { Feed } from './feed.ts';
import type { FeedConnection } from './redis-connection.ts';

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

export const LEASE_SCRIPTS = {
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

export type LeaseConnection = Redis & ScriptCommands;

export interface LeaseKeys {
  leases: string;
  applied: string;
  acks: string;
}

/**
 * The lease and ack half of the Feed over the command connection. `beforeLiveProxies` runs before
 * the leases are read (the ack subscription is made sure of there).
 */
export function redisLeases(
  cmd: FeedConnection<LeaseConnection>,
  keys: LeaseKeys,
  beforeLiveProxies: () => Promise<void>,
): Pick<Feed, 'renewLease' | 'dropLease' | 'ack' | 'liveProxies'> {
  const redis = cmd.redis;
  return {
    async renewLease(proxyId, applied, ttlMs) {
      await cmd.command(() => redis.keygateRenewLease(keys.leases, keys.applied, proxyId, applied, Math.max(1, Math.round(ttlMs))));
    },

    async dropLease(proxyId) {
      await cmd.command(() => redis.keygateDropLease(keys.leases, keys.applied, proxyId));
    },

    async ack(proxyId, revision) {
      const message = JSON.stringify({ proxyId, revision });
      await cmd.command(() => redis.keygateAck(keys.leases, keys.applied, proxyId, revision, keys.acks, message));
    },

    async liveProxies() {
      await beforeLiveProxies();
      const reply = await cmd.command(() => redis.keygateLiveProxies(keys.leases, keys.applied));
      const live = new Map<string, number>();
      if (!Array.isArray(reply)) return live;
      for (let i = 0; i + 1 < reply.length; i += 2) {
        const revision = Number(String(reply[i + 1]));
        live.set(String(reply[i]), Number.isFinite(revision) ? revision : 0);
      }
      return live;
    },
  };
}
