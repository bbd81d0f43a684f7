// Rate limits per key, decided in process on every request (docs/architecture.md, "Rate limits").
// Requests are counted at admission, tokens when a response's usage is read. Alone (embedded
// mode, or Redis unreachable) the counts are this process's own. Shared (proxies with Redis), a
// background sync (redis-sync.ts) sends the counts and brings back the fleet's, together with a
// grant: how many more requests this proxy may admit before it asks again, reserved for it in
// Redis so that the grants of all proxies together never exceed the room left under the limit.
// The request path waits for that sync only when this proxy has no usable grant for a key whose
// window has room (its first requests here, or a renewal that answered late: admitOrWait()), never
// in the steady state.
import { KeyWindow, SLOTS } from './key-window.ts';

/** The limits of a key (null: no limit of that kind). */
export interface Limits {
  readonly requestsPerMinute: number | null;
  readonly tokensPerMinute: number | null;
}

/** What a request's answer says about its key's limits (headers, and the 429 when refused). */
export interface LimitDecision {
  /** null: admitted; else the kind of limit it hit */
  refused: 'requests' | 'tokens' | null;
  /** whole seconds until the refused request could pass (≥ 1) */
  retryAfterS: number;
  requests: LimitState | null;
  tokens: LimitState | null;
}

export interface LimitState {
  limit: number;
  remaining: number;
  /** whole seconds until the window is empty */
  resetS: number;
}

export interface LimitUsage {
  requests: number;
  tokens: number;
  /** epoch ms when the counts now in the window have all left it */
  resetsAtMs: number;
}

/** One key's state on this proxy. */
class KeyState {
  readonly window = new KeyWindow();
  /** requests this proxy may still admit under its grant */
  grant: number;
  /** epoch ms after which the grant lapses (Redis forgets it too) */
  grantUntilMs = Infinity;
  /** the grant ran out while the window had room: ask for a new one */
  wantsGrant = true;
  /** a request or token count since the last sync */
  active = true;
  /** epoch ms of the last sync that carried this key */
  syncedAtMs = 0;
  /** the request limit last seen (null: none) */
  requestLimit: number | null;
  /** a sync has answered for this key since it was first seen here */
  granted = false;
  /** the requests' wait for a grant (see RateLimiter.admitOrWait), and its end */
  waiting: Promise<void> | null = null;
  release: (() => void) | null = null;
  constructor(requestLimit: number | null, firstGrant: number) {
    this.requestLimit = requestLimit;
    this.grant = firstGrant;
  }
}

/** What the sync sends for one key. */
export interface KeySync {
  keyId: string;
  /** 0: no request limit (release any grant) */
  requestLimit: number;
  /** whether this proxy wants a grant (it had requests for the key lately) */
  wantsGrant: boolean;
  /** [slot, requests, tokens, ...] */
  deltas: number[];
}

export interface RateLimiterOptions {
  /** the window (60,000 ms in production; tests shorten it with KEYGATE_RATELIMIT_WINDOW_MS) */
  windowMs?: number;
  now?: () => number;
}

/** Share of the limit a proxy may admit for a key before its first sync answers, when others may
 *  be admitting too: this is all the fleet can overshoot by (docs/architecture.md). */
const UNRESERVED_SHARE = 0.1;

export class RateLimiter {
  readonly windowMs: number;
  readonly slotMs: number;
  /** counts are shared through Redis (false: embedded, or Redis unreachable) */
  shared = false;
  /** live proxies as the last sync counted them (the leases); unknown: assume another */
  proxies = 2;
  /** how long a grant holds (set by the sync) */
  grantMs = 1000;
  /** told when a key wants a grant, so the sync can run soon rather than at its next tick */
  onWant: (() => void) | null = null;
  private readonly now: () => number;
  private readonly keys = new Map<string, KeyState>();

  constructor(options: RateLimiterOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.slotMs = this.windowMs / SLOTS;
    this.now = options.now ?? Date.now;
  }

  /** Counts a request for the key if its limits have room; says what its answer should carry.
   *  Never waits (a request already held once, and the tests' direct decisions). */
  admit(keyId: string, limits: Limits): LimitDecision {
    return this.decide(keyId, limits, false) as LimitDecision;
  }

  /** admit(), or, shared, the promise to wait on when this proxy has no usable grant for the key
   *  while its window has room: its first requests here (no sync has answered for it yet), or a
   *  grant that ran out or lapsed because its renewal is late (a slow Redis, a loaded machine).
   *  The sync is asked for at once; the wait ends when it answers, or after `grantMs`, and the
   *  request is then decided with admit(). Without it a burst that arrives within one Redis round
   *  trip would get only the small unreserved share, and a late renewal would answer 429 while the
   *  window has room. The steady state never waits, and a full window is refused at once. */
  admitOrWait(keyId: string, limits: Limits): LimitDecision | Promise<void> {
    return this.decide(keyId, limits, true);
  }

  private decide(keyId: string, limits: Limits, mayWait: boolean): LimitDecision | Promise<void> {
    const state = this.stateOf(keyId, limits);
    const rl = limits.requestsPerMinute;
    if (mayWait && this.shared && rl !== null && !state.granted) return this.waitForGrant(state);
    const nowMs = this.now();
    const slot = Math.floor(nowMs / this.slotMs);
    const w = state.window;
    if (state.requestLimit !== rl) {
      // A changed limit: the grant was sized for the old one; start afresh and ask for a new one.
      state.requestLimit = rl;
      state.grant = this.firstGrant(rl);
      state.grantUntilMs = Infinity;
      state.wantsGrant = true;
      this.onWant?.();
    }
    const tl = limits.tokensPerMinute;
    state.active = true;
    let refused: LimitDecision['refused'] = null;
    let retryMs = 0;
    let requests = rl === null ? 0 : w.total('requests', slot, this.shared);
    const tokens = tl === null ? 0 : w.total('tokens', slot, this.shared);
    if (rl !== null && requests >= rl) {
      refused = 'requests';
      retryMs = w.msUntil('requests', 'room', rl, slot, this.slotMs, nowMs, this.shared);
    } else if (tl !== null && tokens >= tl) {
      refused = 'tokens';
      retryMs = w.msUntil('tokens', 'room', tl, slot, this.slotMs, nowMs, this.shared);
    } else if (rl !== null && this.shared && (state.grant <= 0 || state.grantUntilMs <= nowMs)) {
      // The window has room, but other proxies may hold it: wait for a grant, or (already waited)
      // refuse, having asked for one.
      if (mayWait) return this.waitForGrant(state);
      if (!state.wantsGrant) {
        state.wantsGrant = true;
        this.onWant?.();
      }
      refused = 'requests';
      retryMs = 1000;
    }
    if (refused === null && rl !== null) {
      const i = w.index(slot);
      w.pending.requests[i] = w.pending.requests[i]! + 1;
      requests++;
      if (this.shared) state.grant--;
    }
    return {
      refused,
      retryAfterS: Math.max(1, Math.ceil(retryMs / 1000)),
      requests: rl === null ? null : this.stateFor('requests', rl, requests, w, slot, nowMs),
      tokens: tl === null ? null : this.stateFor('tokens', tl, tokens, w, slot, nowMs),
    };
  }

  /** One wait per key, however many requests wait on it; the sync is asked for at once. */
  private waitForGrant(state: KeyState): Promise<void> {
    if (state.waiting === null) {
      state.waiting = new Promise<void>((resolve) => {
        const timer = setTimeout(() => state.release?.(), this.grantMs);
        timer.unref();
        state.release = () => {
          clearTimeout(timer);
          state.release = null;
          resolve();
        };
      });
      state.waiting.then(() => (state.waiting = null), () => {});
      state.wantsGrant = true;
      this.onWant?.();
    }
    return state.waiting;
  }

  /** Counts tokens a response used (read when it ended), for a key with a token limit. */
  addTokens(keyId: string, tokens: number): void {
    if (tokens <= 0) return;
    const state = this.keys.get(keyId);
    if (state === undefined) return;
    const slot = Math.floor(this.now() / this.slotMs);
    const i = state.window.index(slot);
    state.window.pending.tokens[i] = state.window.pending.tokens[i]! + tokens;
    state.active = true;
  }

  /** The key's use in the current window as this process knows it; null when it has no state here. */
  usage(keyId: string): LimitUsage | null {
    const state = this.keys.get(keyId);
    if (state === undefined) return null;
    const nowMs = this.now();
    const slot = Math.floor(nowMs / this.slotMs);
    const w = state.window;
    return {
      requests: w.total('requests', slot, this.shared),
      tokens: w.total('tokens', slot, this.shared),
      resetsAtMs: nowMs + Math.max(w.msUntil('requests', 'empty', 0, slot, this.slotMs, nowMs, this.shared), w.msUntil('tokens', 'empty', 0, slot, this.slotMs, nowMs, this.shared)),
    };
  }

  /** The keys a sync should carry now, their pending counts moved to `sent`. `pushMs`: how long
   *  counts may wait when nothing else asks for a sync. Keys with nothing left are forgotten. */
  collect(pushMs: number, tokensPushMs: number, limits: (keyId: string) => Limits | null): KeySync[] {
    const nowMs = this.now();
    const slot = Math.floor(nowMs / this.slotMs);
    const out: KeySync[] = [];
    for (const [keyId, state] of this.keys) {
      const l = limits(keyId);
      const w = state.window;
      const since = nowMs - state.syncedAtMs;
      const grantLapsing = state.active && state.grantUntilMs - nowMs < this.grantMs / 2;
      const pending = w.hasPending();
      const due = state.wantsGrant || grantLapsing || (pending && (since >= pushMs || (l?.tokensPerMinute != null && since >= tokensPushMs)));
      if (!due) {
        if (!state.active && !pending && (l === null || (w.isEmpty(slot) && nowMs >= state.grantUntilMs))) this.keys.delete(keyId);
        continue;
      }
      out.push({ keyId, requestLimit: l?.requestsPerMinute ?? 0, wantsGrant: state.active || state.wantsGrant, deltas: w.send(slot) });
      state.wantsGrant = false;
      state.active = false;
      state.syncedAtMs = nowMs;
    }
    return out;
  }

  /** Redis answered a sync: each key's grant and the fleet's counts ([slot, requests, tokens, ...]). */
  synced(replies: readonly { keyId: string; grant: number; fleet: number[] }[], sentAtMs: number): void {
    const slot = Math.floor(this.now() / this.slotMs);
    for (const r of replies) {
      const state = this.keys.get(r.keyId);
      if (state === undefined) continue;
      // Requests admitted while the sync was in flight came out of the old grant: take them off.
      let admittedSince = 0;
      const pending = state.window.pending.requests;
      for (let i = 0; i < pending.length; i++) if (state.window.live(i, slot)) admittedSince += pending[i]!;
      state.window.synced(r.fleet, slot);
      state.grant = r.grant - admittedSince;
      state.grantUntilMs = sentAtMs + this.grantMs;
      state.granted = true;
      state.release?.();
    }
  }

  /** A sync timed out: its counts may have reached Redis; they are kept as this proxy's own, not
   *  sent again. */
  delivered(keyIds: readonly string[]): void {
    const slot = Math.floor(this.now() / this.slotMs);
    for (const id of keyIds) this.keys.get(id)?.window.synced([], slot, true);
  }

  /** A sync failed: its counts go with the next one. */
  unsent(keyIds: readonly string[]): void {
    for (const id of keyIds) this.keys.get(id)?.window.unsent();
  }

  /** Forgets the keys with nothing in their window and no use since the last sweep (the embedded
   *  mode's bound on memory; with Redis, collect() does it). */
  sweep(): void {
    const slot = Math.floor(this.now() / this.slotMs);
    for (const [keyId, state] of this.keys) {
      if (!state.active && state.window.isEmpty(slot)) this.keys.delete(keyId);
      state.active = false;
    }
  }

  /** Counting alone (Redis unreachable) or shared again. */
  setShared(shared: boolean): void {
    if (this.shared === shared) return;
    this.shared = shared;
    // Grants from before an outage are not trusted after it.
    for (const state of this.keys.values()) {
      state.release?.();
      state.grant = this.firstGrant(state.requestLimit);
      state.grantUntilMs = Infinity;
      state.wantsGrant = true;
    }
  }

  get keyCount(): number {
    return this.keys.size;
  }

  private stateOf(keyId: string, limits: Limits): KeyState {
    let state = this.keys.get(keyId);
    if (state === undefined) {
      state = new KeyState(limits.requestsPerMinute, this.firstGrant(limits.requestsPerMinute));
      this.keys.set(keyId, state);
      this.onWant?.();
    }
    return state;
  }

  /** What a proxy may admit for a key before Redis grants it anything: all of it when it is the
   *  only proxy, else a small unreserved share (the fleet's overshoot bound). */
  private firstGrant(limit: number | null): number {
    if (limit === null) return Infinity;
    if (this.proxies <= 1) return limit;
    return Math.max(1, Math.floor((limit * UNRESERVED_SHARE) / this.proxies));
  }

  private stateFor(which: 'requests' | 'tokens', limit: number, used: number, w: KeyWindow, slot: number, nowMs: number): LimitState {
    return {
      limit,
      remaining: Math.max(0, limit - used),
      resetS: Math.ceil(w.msUntil(which, 'empty', 0, slot, this.slotMs, nowMs, this.shared) / 1000),
    };
  }
}
