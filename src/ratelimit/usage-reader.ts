// Where the control plane reads a key's use of its rate limit (ApiKey.rateLimitUsage): the counts
// the proxies share in Redis, or the in-process limiter of `keygate start` without Redis.
import type { FeedConnection } from '../feed/redis-connection.ts';
import { SLOTS } from './key-window.ts';
import type { LimitUsage, RateLimiter } from './limiter.ts';
import { countsKey } from './redis-sync.ts';

export interface RateLimitUsageSource {
  /** the key's use in the current window, fleet-wide and approximate */
  read(keyId: string): Promise<LimitUsage>;
  close(): Promise<void>;
}

export function localUsageSource(limiter: RateLimiter): RateLimitUsageSource {
  return {
    read: (keyId) => Promise.resolve(limiter.usage(keyId) ?? { requests: 0, tokens: 0, resetsAtMs: Date.now() }),
    close: () => Promise.resolve(),
  };
}

export function redisUsageSource(connection: FeedConnection, prefix: string, windowMs: number, close: () => Promise<void>): RateLimitUsageSource {
  const slotMs = windowMs / SLOTS;
  return {
    async read(keyId) {
      const fields = await connection.command(() => connection.redis.hgetall(countsKey(prefix, keyId)));
      const nowMs = Date.now();
      const slot = Math.floor(nowMs / slotMs);
      let requests = 0;
      let tokens = 0;
      let newest = -1;
      for (const [field, value] of Object.entries(fields)) {
        const kind = field[0];
        if (kind !== 'r' && kind !== 't') continue;
        const s = Number(field.slice(1));
        if (!(s > slot - SLOTS - 1 && s <= slot)) continue;
        const n = Number(value) || 0;
        if (kind === 'r') requests += n;
        else tokens += n;
        if (n > 0 && s > newest) newest = s;
      }
      return { requests, tokens, resetsAtMs: newest < 0 ? nowMs : (newest + SLOTS + 1) * slotMs };
    },
    close,
  };
}
