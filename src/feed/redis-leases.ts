// Proxy leases and acks on Redis (docs: change-feed protocol, steps 4 and 5): `${prefix}fleet:leases`
// (a ZSET of proxy ids scored by lease expiry) and `${prefix}fleet:revisions` (a ZSET of the same ids
// scored by their applied revision). Acks are aggregated: every script that changes either set
// recomputes the fleet's floor (the lowest applied revision of the live proxies) and publishes it on
// `${prefix}fleet` only when it rose, so a control plane hears one message per change however many
// proxies there are, and reads where the fleet stands in one round trip. Lease expiry is judged by
// the Redis server's clock (TIME inside Lua scripts), so clock skew between machines does not matter.
//
// Leases of proxies from before aggregated acks (`${prefix}proxies:leases` and their revisions in the
// hash `${prefix}proxies:applied`) are read too: such a proxy is waited for but never announced, so a
// change it has not applied when it is read is confirmed only by the read at the timeout.
import type { Redis } from 'ioredis';
import type { Feed, FleetProgress } from './feed.ts';
import type { FeedConnection } from './redis-connection.ts';

// Milliseconds on the Redis server's clock.
const NOW_MS = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// Removes expired leases and their revisions. KEYS[1] = leases, KEYS[2] = revisions.
const PRUNE = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
`;

// The floor of the live fleet (-1 when it is empty), announced on the channel ARGV[1] when it rose
// or the fleet emptied (not when nothing was ever announced). KEYS[3] = the floor last announced. Every lease has a revision (a renewal
// writes both), so the lowest revision is the floor.
const ANNOUNCE = `
local live = redis.call('ZCARD', KEYS[1])
local floor = -1
if live > 0 then
  local lowest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  floor = lowest[2] and tonumber(lowest[2]) or 0
  if redis.call('ZCARD', KEYS[2]) < live then floor = 0 end
end
local announced = tonumber(redis.call('GET', KEYS[3]) or '-2')
if floor ~= announced then
  redis.call('SET', KEYS[3], floor, 'KEEPTTL')
  if (live > 0 and floor > announced) or (live == 0 and announced >= 0) then
    redis.call('PUBLISH', ARGV[1], '{"floor":' .. string.format('%d', floor) .. ',"live":' .. live .. '}')
  end
end
`;

// Keeps the keys alive at least as long as the longest lease (abandoned prefixes vanish).
const KEEP_KEYS = `
local keep = tonumber(ARGV[4]) * 2 + 60000
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) < keep then redis.call('PEXPIRE', key, keep) end
end
`;

// Raises a proxy's revision (never lowers it). ARGV[2] = proxyId, ARGV[3] = revision.
const RAISE = `
local current = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not current or tonumber(ARGV[3]) > tonumber(current) then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2]) end
`;

export const LEASE_SCRIPTS = {
  // KEYS: leases, revisions, floor; ARGV: channel, proxyId, applied, ttlMs
  keygateRenewLease: {
    numberOfKeys: 3,
    lua: `${NOW_MS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[2])
${RAISE}
${PRUNE}
${ANNOUNCE}
${KEEP_KEYS}
return 1`,
  },
  // KEYS: leases, revisions, floor; ARGV: channel, proxyId
  keygateDropLease: {
    numberOfKeys: 3,
    lua: `redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
${ANNOUNCE}
return 1`,
  },
  // KEYS: leases, revisions, floor; ARGV: channel, proxyId, revision, ttlMs (0: no renewal)
  // Records the revision (cumulative: only if greater, only while the proxy holds a lease), renews
  // the lease when asked, and announces the floor if it rose: whoever hears the announcement and
  // then reads finds it. Returns 1 when it renewed the lease.
  keygateAck: {
    numberOfKeys: 3,
    lua: `${NOW_MS}
local renewed = 0
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
${RAISE}
  if tonumber(ARGV[4]) > 0 then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[2])
    renewed = 1
  end
end
${PRUNE}
${ANNOUNCE}
return renewed`,
  },
  // KEYS: leases, revisions, floor, legacy leases, legacy revisions; ARGV: channel, revision, list ('1': name the lagging)
  // Returns [live, applied, legacy lagging, lagging ids...]: the live proxies, those at or above the
  // revision, and how many of the lagging hold a legacy lease.
  keygateFleetProgress: {
    numberOfKeys: 5,
    lua: `${NOW_MS}
${PRUNE}
${ANNOUNCE}
local applied = redis.call('ZCOUNT', KEYS[2], ARGV[2], '+inf')
local out = {0, 0, 0}
if ARGV[3] == '1' then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])) do out[#out + 1] = id end
end
local legacyLagging = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. now, '+inf')) do
  live = live + 1
  if tonumber(redis.call('HGET', KEYS[5], id) or '-1') >= tonumber(ARGV[2]) then
    applied = applied + 1
  else
    legacyLagging = legacyLagging + 1
    if ARGV[3] == '1' then out[#out + 1] = id end
  end
end
out[1] = live
out[2] = applied
out[3] = legacyLagging
return out`,
  },
  // KEYS: leases, revisions; returns [id, applied, id, applied, ...] of unexpired leases
  keygateLiveProxies: {
    numberOfKeys: 2,
    lua: `${NOW_MS}
${PRUNE}
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('ZSCORE', KEYS[2], id) or '0'
end
return out`,
  },
} as const;

interface ScriptCommands {
  keygateRenewLease(leases: string, revisions: string, floor: string, channel: string, proxyId: string, revision: number, ttlMs: number): Promise<unknown>;
  keygateDropLease(leases: string, revisions: string, floor: string, channel: string, proxyId: string): Promise<unknown>;
  keygateAck(leases: string, revisions: string, floor: string, channel: string, proxyId: string, revision: number, ttlMs: number): Promise<unknown>;
  keygateFleetProgress(
    leases: string,
    revisions: string,
    floor: string,
    legacyLeases: string,
    legacyRevisions: string,
    channel: string,
    revision: number,
    list: '0' | '1',
  ): Promise<unknown>;
  keygateLiveProxies(leases: string, revisions: string): Promise<unknown>;
}

export type LeaseConnection = Redis & ScriptCommands;

export interface LeaseKeys {
  leases: string;
  revisions: string;
  floor: string;
  /** the channel the floor is announced on */
  fleet: string;
  legacyLeases: string;
  legacyRevisions: string;
}

export const leaseKeys = (prefix: string): LeaseKeys => ({
  leases: `${prefix}fleet:leases`,
  revisions: `${prefix}fleet:revisions`,
  floor: `${prefix}fleet:floor`,
  fleet: `${prefix}fleet`,
  legacyLeases: `${prefix}proxies:leases`,
  legacyRevisions: `${prefix}proxies:applied`,
});

/**
 * The lease and ack half of the Feed over the command connection. `beforeRead` runs before the
 * fleet is read (the floor subscription is made sure of there).
 */
export function redisLeases(
  cmd: FeedConnection<LeaseConnection>,
  keys: LeaseKeys,
  beforeRead: () => Promise<void>,
): Pick<Feed, 'renewLease' | 'dropLease' | 'ack' | 'liveProxies' | 'fleetProgress'> {
  const redis = cmd.redis;
  const { leases, revisions, floor, fleet } = keys;
  return {
    async renewLease(proxyId, applied, ttlMs) {
      await cmd.command(() => redis.keygateRenewLease(leases, revisions, floor, fleet, proxyId, applied, Math.max(1, Math.round(ttlMs))));
    },

    async dropLease(proxyId) {
      await cmd.command(() => redis.keygateDropLease(leases, revisions, floor, fleet, proxyId));
    },

    async ack(proxyId, revision, leaseMs = 0) {
      const ttlMs = Math.max(0, Math.round(leaseMs));
      return (await cmd.command(() => redis.keygateAck(leases, revisions, floor, fleet, proxyId, revision, ttlMs))) === 1;
    },

    async fleetProgress(revision, listLagging): Promise<FleetProgress> {
      await beforeRead();
      const reply = await cmd.command(() =>
        redis.keygateFleetProgress(leases, revisions, floor, keys.legacyLeases, keys.legacyRevisions, fleet, revision, listLagging ? '1' : '0'),
      );
      const values = Array.isArray(reply) ? reply : [];
      const count = (i: number) => Number(values[i] ?? 0) || 0;
      return { live: count(0), applied: count(1), legacyLagging: count(2), lagging: values.slice(3).map(String) };
    },

    async liveProxies() {
      const reply = await cmd.command(() => redis.keygateLiveProxies(leases, revisions));
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
