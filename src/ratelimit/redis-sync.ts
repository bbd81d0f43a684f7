// The background sync of a proxy's rate-limit counts with Redis (docs/architecture.md, "Rate
// limits"). Every tick (KEYGATE_RATELIMIT_SYNC_MS) it sends, in one script call for all keys, the
// keys that need it: those whose grant ran out while their window had room, whose grant is about
// to lapse while they are in use, or whose counts have waited long enough. The script adds the
// counts, answers the fleet's counts per slot and a new grant, and counts the live proxies (their
// leases). Nothing on the request path waits for it. When Redis does not answer the limiter counts
// alone (each proxy holds the full limit by itself) until a sync succeeds again.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { errorMessage, type FeedConnection, isTimeout } from '../feed/redis-connection.ts';
import { leaseKeys } from '../feed/redis-leases.ts';
import { SLOTS } from './key-window.ts';
import type { Limits, RateLimiter } from './limiter.ts';

/** The key of one API key's counts and grants in Redis. */
export const countsKey = (prefix: string, keyId: string) => `${prefix}ratelimit:${keyId}`;

// KEYS: leases, then one hash per API key. ARGV: proxyId, current slot, slots in the window,
// grant ms, hash TTL ms, then per key: request limit (0: none), wants a grant (1/0), delta count,
// deltas as slot, requests, tokens. Hash fields: r<slot>, t<slot> (counts), g<proxyId>
// ("<grant>:<until ms>"). Returns: live proxies, then per key: grant, slot count, slot, requests, tokens, ...
const SYNC = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- live proxies: the unexpired leases, this one counted even before its lease is taken
local live = redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
local mine = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '0')
if mine <= now then live = live + 1 end
local out = { live }
local self = 'g' .. ARGV[1]
local slot = tonumber(ARGV[2])
local oldest = slot - tonumber(ARGV[3])
local grantMs = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local a = 6
for k = 2, #KEYS do
  local key = KEYS[k]
  local limit = tonumber(ARGV[a])
  local want = ARGV[a + 1] == '1'
  local n = tonumber(ARGV[a + 2])
  a = a + 3
  for d = 1, n do
    local s = tonumber(ARGV[a])
    if s >= oldest then
      if tonumber(ARGV[a + 1]) ~= 0 then redis.call('HINCRBY', key, 'r' .. s, ARGV[a + 1]) end
      if tonumber(ARGV[a + 2]) ~= 0 then redis.call('HINCRBY', key, 't' .. s, ARGV[a + 2]) end
    end
    a = a + 3
  end
  local all = redis.call('HGETALL', key)
  local used, held, others = 0, 0, 0
  local reqs, toks, slots, stale = {}, {}, {}, {}
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    local kind = string.sub(f, 1, 1)
    if kind == 'g' then
      if f ~= self then
        local sep = string.find(v, ':', 1, true)
        local untilMs = sep and tonumber(string.sub(v, sep + 1)) or 0
        if untilMs <= now then stale[#stale + 1] = f
        else
          held = held + tonumber(string.sub(v, 1, sep - 1))
          others = others + 1
        end
      end
    else
      local s = tonumber(string.sub(f, 2))
      if s == nil or s < oldest then stale[#stale + 1] = f
      else
        if reqs[s] == nil then slots[#slots + 1] = s; reqs[s] = 0; toks[s] = 0 end
        if kind == 'r' then reqs[s] = tonumber(v); used = used + tonumber(v) else toks[s] = tonumber(v) end
      end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  local grant = 0
  if limit > 0 and want then
    local room = limit - used - held
    if room > 0 then grant = math.ceil(room / (others + 1)) end
    redis.call('HSET', key, self, grant .. ':' .. (now + grantMs))
  else
    redis.call('HDEL', key, self)
  end
  redis.call('PEXPIRE', key, ttl)
  out[#out + 1] = grant
  out[#out + 1] = #slots
  for _, s in ipairs(slots) do
    out[#out + 1] = s
    out[#out + 1] = reqs[s]
    out[#out + 1] = toks[s]
  end
end
return out`;

export const RATE_LIMIT_SCRIPTS = { keygateRateLimitSync: { lua: SYNC } } as const;

export type RateLimitConnection = Redis & { keygateRateLimitSync(...args: (string | number)[]): Promise<unknown> };

export interface RateLimitSyncOptions {
  limiter: RateLimiter;
  connection: FeedConnection<RateLimitConnection>;
  prefix: string;
  proxyId: string;
  /** the limits a key has now (null: none, or no such key) */
  limitsOf: (keyId: string) => Limits | null;
  log: Logger;
  registry: Registry;
  /** KEYGATE_RATELIMIT_SYNC_MS */
  syncMs: number;
}

export interface RateLimitSync {
  /** Redis commands sent (one per sync) */
  readonly commands: number;
  stop(): Promise<void>;
}

// Counts of keys with a token limit go out this often (tokens have no grants: the fleet's view
// of them is only as fresh as this).
const TOKENS_PUSH_MS = 100;
// Other counts wait at most this long (for rateLimitUsage and the other proxies' grants).
const PUSH_MS = 1000;
// The live proxies are counted at least this often, keys or not.
const REFRESH_MS = 1000;
// A sync that timed out may have been applied: its counts are not sent again (a double count would
// refuse requests for nothing), and only failures for this long turn the proxy to counting alone (a
// slow reply on a loaded machine is not an outage; grants lapse meanwhile, so nothing is admitted
// that no grant covers). A refused connection turns it at once.
const ALONE_AFTER_MS = 2000;
// A lower count of live proxies is believed only after this long: after a Redis restart (or a
// lease renewal that failed) the leases are missing for a moment, and a proxy that believed itself
// alone would admit a whole limit without a grant.
const PROXIES_MEMORY_MS = 10_000;

/** The highest value seen within the last `memoryMs`. */
class RecentMax {
  private value = 0;
  private at = 0;
  constructor(private readonly memoryMs: number) {}
  seen(n: number, nowMs: number): number {
    if (n >= this.value || nowMs - this.at > this.memoryMs) {
      this.value = Math.max(1, n);
      this.at = nowMs;
    }
    return this.value;
  }
}

export function startRateLimitSync(options: RateLimitSyncOptions): RateLimitSync {
  const { limiter, connection, prefix, proxyId, log, syncMs } = options;
  const leases = leaseKeys(prefix).leases;
  const grantMs = Math.max(20 * syncMs, 1000);
  limiter.grantMs = grantMs;
  const ttlMs = limiter.windowMs * 2 + grantMs;
  let commands = 0;
  let inFlight: Promise<void> | null = null;
  let again = false;
  let lastSyncMs = 0;
  let stopped = false;
  /** what the last sync found: null before the first */
  let reachable: boolean | null = null;
  /** epoch ms of the first failure since the last success; null while syncs succeed */
  let failingSince: number | null = null;
  // A key that wants a grant is synced at once, but not more often than this.
  const minGapMs = Math.max(5, syncMs / 5);

  const sharedGauge = new Gauge({
    name: 'keygate_ratelimit_shared',
    help: 'Whether rate-limit counts are shared with the other proxies through Redis (1) or counted by this proxy alone (0)',
    registers: [options.registry],
  });
  const commandCounter = new Counter({
    name: 'keygate_ratelimit_redis_commands_total',
    help: 'Redis commands the rate-limit sync sent (one per sync, however many keys it carries)',
    registers: [options.registry],
  });

  function sync(): void {
    if (stopped) return;
    if (inFlight) {
      again = true;
      return;
    }
    const nowMs = Date.now();
    const batch = limiter.collect(PUSH_MS, TOKENS_PUSH_MS, options.limitsOf);
    if (batch.length === 0 && nowMs - lastSyncMs < REFRESH_MS) return;
    lastSyncMs = nowMs;
    const slot = Math.floor(nowMs / limiter.slotMs);
    const keys: string[] = [leases];
    const args: (string | number)[] = [proxyId, slot, SLOTS, grantMs, Math.ceil(ttlMs)];
    for (const k of batch) {
      keys.push(countsKey(prefix, k.keyId));
      args.push(k.requestLimit, k.wantsGrant ? 1 : 0, k.deltas.length / 3, ...k.deltas);
    }
    commands++;
    commandCounter.inc();
    inFlight = connection
      .command(() => connection.redis.keygateRateLimitSync(keys.length, ...keys, ...args))
      .then(
        (reply) => {
          const replies = parseReply(reply, batch.map((k) => k.keyId));
          if (replies === null) throw new Error('unexpected rate-limit sync reply');
          limiter.proxies = proxyCount.seen(replies.proxies, Date.now());
          if (reachable === false) log.info('rate-limit counts are shared through Redis again');
          reachable = true;
          failingSince = null;
          limiter.setShared(true);
          sharedGauge.set(1);
          limiter.synced(replies.keys, nowMs);
        },
      )
      .catch((error: unknown) => {
        const timedOut = isTimeout(error);
        if (!timedOut) limiter.unsent(batch.map((k) => k.keyId));
        else limiter.delivered(batch.map((k) => k.keyId));
        failingSince ??= nowMs;
        if (timedOut && Date.now() - failingSince < ALONE_AFTER_MS && reachable !== null) return;
        if (reachable !== false) {
          log.warn({ err: errorMessage(error) }, 'rate-limit counts cannot reach Redis: each proxy holds every limit alone until it can');
        }
        reachable = false;
        limiter.setShared(false);
        sharedGauge.set(0);
      })
      .finally(() => {
        inFlight = null;
        if (again) {
          again = false;
          setImmediate(sync);
        }
      });
  }

  const proxyCount = new RecentMax(PROXIES_MEMORY_MS);
  limiter.onWant = () => {
    if (inFlight) again = true;
    else if (Date.now() - lastSyncMs >= minGapMs) setImmediate(sync);
  };
  sharedGauge.set(0);
  const timer = setInterval(sync, syncMs);
  timer.unref();
  sync();

  return {
    get commands() {
      return commands;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      limiter.onWant = null;
      await inFlight;
    },
  };
}

function parseReply(reply: unknown, keyIds: string[]): { proxies: number; keys: { keyId: string; grant: number; fleet: number[] }[] } | null {
  if (!Array.isArray(reply)) return null;
  const n = reply.map(Number);
  let at = 1;
  const keys: { keyId: string; grant: number; fleet: number[] }[] = [];
  for (const keyId of keyIds) {
    const grant = n[at]!;
    const count = n[at + 1]!;
    keys.push({ keyId, grant, fleet: n.slice(at + 2, at + 2 + count * 3) });
    at += 2 + count * 3;
  }
  return at === n.length && n.every(Number.isFinite) ? { proxies: n[0]!, keys } : null;
}
