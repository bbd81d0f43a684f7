// The rate limiter's decisions without Redis or sockets: the window, Retry-After, tokens, grants.
import { expect, it } from 'vitest';
import { SLOTS } from '../../src/ratelimit/key-window.ts';
import { type LimitDecision, RateLimiter } from '../../src/ratelimit/limiter.ts';

const WINDOW = 60_000;
const SLOT = WINDOW / SLOTS;

function limiterAt(start = 1_000 * WINDOW) {
  const clock = { now: start };
  const limiter = new RateLimiter({ windowMs: WINDOW, now: () => clock.now });
  limiter.proxies = 1;
  return { limiter, clock };
}

/** Whether a wait has ended, once the microtasks queued so far have run: no timer fires meanwhile,
 *  so an end seen here came from the call before, not from the wait's own time limit. */
async function ended(wait: LimitDecision | Promise<void>): Promise<boolean> {
  expect(wait).toBeInstanceOf(Promise);
  let done = false;
  void (wait as Promise<void>).then(() => (done = true));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

it('alone: admits the limit, then refuses with Retry-After until the first counts leave the window', () => {
  const { limiter, clock } = limiterAt();
  const limits = { requestsPerMinute: 3, tokensPerMinute: null };
  const decisions = Array.from({ length: 5 }, () => limiter.admit('k', limits));
  expect(decisions.map((d) => d.refused)).toEqual([null, null, null, 'requests', 'requests']);
  expect(decisions[0]!.requests).toMatchObject({ limit: 3, remaining: 2 });
  expect(decisions[2]!.requests).toMatchObject({ limit: 3, remaining: 0 });
  expect(decisions[3]!.tokens).toBeNull();
  // The counts leave a whole window (plus at most one slot) later: never early.
  const retry = decisions[3]!.retryAfterS;
  expect(retry * 1000).toBeGreaterThanOrEqual(WINDOW);
  expect(retry * 1000).toBeLessThanOrEqual(WINDOW + SLOT + 1000);
  clock.now += WINDOW - 1;
  expect(limiter.admit('k', limits).refused).toBe('requests');
  clock.now += retry * 1000;
  expect(limiter.admit('k', limits).refused).toBeNull();
});

it('at most the limit in any window of sliding traffic', () => {
  const { limiter, clock } = limiterAt();
  const limits = { requestsPerMinute: 50, tokensPerMinute: null };
  const passed: number[] = [];
  for (let t = 0; t < 5 * WINDOW; t += 137) {
    clock.now += 137;
    if (limiter.admit('k', limits).refused === null) passed.push(clock.now);
  }
  for (let i = 0, j = 0; i < passed.length; i++) {
    while (passed[i]! - passed[j]! >= WINDOW) j++;
    expect(i - j + 1).toBeLessThanOrEqual(50);
  }
  // Steady traffic above the limit still gets at least 95 % of it per window.
  expect(passed.length).toBeGreaterThanOrEqual(Math.floor(5 * 50 * 0.95));
});

it('tokens: counted when added; the request that crosses the limit completed, the next is refused', () => {
  const { limiter } = limiterAt();
  const limits = { requestsPerMinute: null, tokensPerMinute: 1000 };
  for (let i = 0; i < 4; i++) {
    const d = limiter.admit('k', limits);
    expect(d.refused).toBeNull();
    limiter.addTokens('k', 300);
  }
  const fifth = limiter.admit('k', limits);
  expect(fifth.refused).toBe('tokens');
  expect(fifth.tokens).toMatchObject({ limit: 1000, remaining: 0 });
  expect(fifth.requests).toBeNull();
});

it('shared: admits within its grant only and asks for a new one', () => {
  const { limiter, clock } = limiterAt();
  limiter.proxies = 2;
  limiter.setShared(true);
  let wants = 0;
  limiter.onWant = () => wants++;
  const limits = { requestsPerMinute: 100, tokensPerMinute: null };
  // Before any grant: 10 % of the limit shared by the live proxies.
  const first = Array.from({ length: 10 }, () => limiter.admit('k', limits).refused);
  expect(first.filter((r) => r === null)).toHaveLength(5);
  expect(wants).toBeGreaterThan(0);
  const batch = limiter.collect(1000, 100, () => limits);
  expect(batch).toHaveLength(1);
  expect(batch[0]).toMatchObject({ keyId: 'k', requestLimit: 100, wantsGrant: true });
  // Refused while the sync is in flight (no grant left).
  expect(limiter.admit('k', limits).refused).toBe('requests');
  limiter.synced([{ keyId: 'k', grant: 20, fleet: [] }], clock.now);
  const next = Array.from({ length: 30 }, () => limiter.admit('k', limits).refused);
  expect(next.filter((r) => r === null)).toHaveLength(20);
});

it('Redis unreachable: the grant no longer binds, the full limit holds alone', () => {
  const { limiter } = limiterAt();
  limiter.proxies = 2;
  limiter.setShared(false);
  const limits = { requestsPerMinute: 10, tokensPerMinute: null };
  const decisions = Array.from({ length: 15 }, () => limiter.admit('k', limits).refused);
  expect(decisions.filter((r) => r === null)).toHaveLength(10);
});

it('forgets a key once its window is empty and it is not used', () => {
  const { limiter, clock } = limiterAt();
  limiter.admit('k', { requestsPerMinute: 5, tokensPerMinute: null });
  limiter.sweep();
  expect(limiter.keyCount).toBe(1);
  clock.now += WINDOW + 2 * SLOT;
  limiter.sweep();
  expect(limiter.keyCount).toBe(0);
});

it('shared: the first requests of a key wait for its first grant, once; alone or granted, nothing waits', async () => {
  const { limiter } = limiterAt();
  const limits = { requestsPerMinute: 30, tokensPerMinute: null };
  let wanted = 0;
  limiter.onWant = () => wanted++;
  expect(limiter.admitOrWait('k', limits)).not.toBeInstanceOf(Promise); // alone
  limiter.proxies = 2;
  limiter.setShared(true);
  const first = limiter.admitOrWait('new', limits);
  expect(first).toBeInstanceOf(Promise);
  expect(limiter.admitOrWait('new', limits)).toBe(first); // one wait per key, not per request
  expect(wanted).toBeGreaterThan(0);
  expect(await ended(first)).toBe(false);
  expect(limiter.admitOrWait('unlimited', { requestsPerMinute: null, tokensPerMinute: 5 })).not.toBeInstanceOf(Promise);
  const sent = limiter.collect(1000, 100, () => limits);
  expect(sent.find((k) => k.keyId === 'new')?.wantsGrant).toBe(true);
  limiter.synced([{ keyId: 'new', grant: 30, fleet: [] }], Date.now());
  expect(await ended(first)).toBe(true);
  const granted = decided(limiter.admitOrWait('new', limits));
  const decisions = [granted.refused, ...Array.from({ length: 30 }, () => limiter.admit('new', limits).refused)];
  expect(decisions.filter((d) => d === null)).toHaveLength(30);
  // Redis gone meanwhile: a waiting key is let go at once.
  const waiting = limiter.admitOrWait('other', limits);
  expect(await ended(waiting)).toBe(false);
  limiter.setShared(false);
  expect(await ended(waiting)).toBe(true);
});

it('shared: a grant that lapsed or ran out while the window has room waits for its renewal instead of a 429; a full window is refused at once', async () => {
  const { limiter, clock } = limiterAt();
  limiter.proxies = 2;
  limiter.setShared(true);
  limiter.grantMs = 1000;
  const limits = { requestsPerMinute: 30, tokensPerMinute: null };
  const first = limiter.admitOrWait('k', limits);
  limiter.collect(1000, 100, () => limits);
  limiter.synced([{ keyId: 'k', grant: 5, fleet: [] }], clock.now);
  expect(await ended(first)).toBe(true); // and the wait is over: a later one is a new wait
  // A grant in hand: the steady state does not wait.
  const steady = decided(limiter.admitOrWait('k', limits));
  expect([steady.refused, ...Array.from({ length: 4 }, () => limiter.admit('k', limits).refused)]).toEqual([null, null, null, null, null]);
  // The grant is used up; the window (5 of 30) has room: wait for the renewal.
  const spent = limiter.admitOrWait('k', limits);
  expect(await ended(spent)).toBe(false);
  limiter.collect(1000, 100, () => limits);
  limiter.synced([{ keyId: 'k', grant: 10, fleet: [Math.floor(clock.now / SLOT), 5, 0] }], clock.now);
  expect(await ended(spent)).toBe(true); // the renewal ends it, not the wait's time limit
  expect(limiter.admit('k', limits).refused).toBeNull();
  // The grant lapses (its renewal is late): the same.
  clock.now += 1001;
  const lapsed = limiter.admitOrWait('k', limits);
  expect(await ended(lapsed)).toBe(false);
  limiter.collect(1000, 100, () => limits);
  limiter.synced([{ keyId: 'k', grant: 30, fleet: [Math.floor(clock.now / SLOT), 6, 0] }], clock.now);
  expect(await ended(lapsed)).toBe(true);
  const rest = Array.from({ length: 30 }, () => limiter.admit('k', limits).refused);
  expect(rest.filter((r) => r === null)).toHaveLength(24); // the window's room: 30 − 6
  // A full window: no wait, a 429 now, even with the grant lapsed.
  clock.now += 1001;
  expect(decided(limiter.admitOrWait('k', limits)).refused).toBe('requests');
  expect(limiter.admit('k', limits).refused).toBe('requests');
});

/** A decision made at once (a wait fails the test). */
function decided(d: LimitDecision | Promise<void>): LimitDecision {
  expect(d).not.toBeInstanceOf(Promise);
  return d as LimitDecision;
}
