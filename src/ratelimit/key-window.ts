// One key's counts in the sliding window of a rate limit (docs/architecture.md, "Rate limits"):
// the window is SLOTS + 1 slots of windowMs / SLOTS each, the current one included, so it always
// covers at least the last windowMs (a count leaves only once it is a whole window old: never
// early, at most one slot late). Per slot it keeps the fleet's count as Redis last answered it
// (this proxy's synced share included), this proxy's own synced share, the counts sent in the
// sync now in flight and those not sent yet. Plain arrays, no allocation per request.

/** slots per window; a count leaves the window at most windowMs / SLOTS late */
export const SLOTS = 20;
const RING = SLOTS + 1;

/** Requests and tokens of one slot list. */
export class SlotCounts {
  readonly requests = new Float64Array(RING);
  readonly tokens = new Float64Array(RING);
  clear(i: number): void {
    this.requests[i] = 0;
    this.tokens[i] = 0;
  }
}

export class KeyWindow {
  /** slot number held at each ring index (-1: none) */
  readonly slotOf = new Float64Array(RING).fill(-1);
  /** the fleet's counts as Redis last answered (own synced counts included) */
  readonly fleet = new SlotCounts();
  /** this proxy's counts that Redis has taken in */
  readonly own = new SlotCounts();
  /** counts sent in the sync in flight */
  readonly sent = new SlotCounts();
  /** counts not sent yet */
  readonly pending = new SlotCounts();

  /** Ring index of a slot, emptied first when it held an older one. */
  index(slot: number): number {
    const i = slot % RING;
    if (this.slotOf[i] !== slot) {
      this.slotOf[i] = slot;
      this.fleet.clear(i);
      this.own.clear(i);
      this.sent.clear(i);
      this.pending.clear(i);
    }
    return i;
  }

  /** Whether ring index i holds a slot inside the window that ends with `slot`. */
  live(i: number, slot: number): boolean {
    const s = this.slotOf[i]!;
    return s >= 0 && s > slot - RING && s <= slot;
  }

  /** The window's requests (which = 'requests') or tokens as this proxy knows them: the fleet's,
   *  or only its own when the counts are not shared. */
  total(which: 'requests' | 'tokens', slot: number, shared: boolean): number {
    const base = shared ? this.fleet[which] : this.own[which];
    const sent = this.sent[which];
    const pending = this.pending[which];
    let sum = 0;
    for (let i = 0; i < RING; i++) if (this.live(i, slot)) sum += base[i]! + sent[i]! + pending[i]!;
    return sum;
  }

  /**
   * Milliseconds from `nowMs` until the window's count drops below `limit` (want 'room') or to
   * nothing (want 'empty'); 0 when it already is.
   */
  msUntil(which: 'requests' | 'tokens', want: 'room' | 'empty', limit: number, slot: number, slotMs: number, nowMs: number, shared: boolean): number {
    if (want === 'empty') {
      // Empty once the newest slot with a count has left: found from the newest end, usually at once.
      const newest = this.newestCounted(which, slot, shared);
      return newest < 0 ? 0 : Math.max(0, (newest + RING) * slotMs - nowMs);
    }
    let total = this.total(which, slot, shared);
    if (want === 'room' ? total < limit : total === 0) return 0;
    const base = shared ? this.fleet[which] : this.own[which];
    // Oldest slot first: each leaves the window RING slots after it began.
    for (let s = slot - RING + 1; s <= slot; s++) {
      const i = s % RING;
      if (this.slotOf[i] !== s) continue;
      total -= base[i]! + this.sent[which][i]! + this.pending[which][i]!;
      if (want === 'room' ? total < limit : total <= 0) return Math.max(0, (s + RING) * slotMs - nowMs);
    }
    return Math.max(0, (slot + RING) * slotMs - nowMs);
  }

  /** The newest slot of the window with a count; -1: none. */
  private newestCounted(which: 'requests' | 'tokens', slot: number, shared: boolean): number {
    const base = shared ? this.fleet[which] : this.own[which];
    const sent = this.sent[which];
    const pending = this.pending[which];
    for (let s = slot; s > slot - RING; s--) {
      const i = s % RING;
      if (this.slotOf[i] === s && base[i]! + sent[i]! + pending[i]! > 0) return s;
    }
    return -1;
  }

  /** Whether anything is counted in the window or waits to be sent. */
  isEmpty(slot: number): boolean {
    for (let i = 0; i < RING; i++) {
      if (!this.live(i, slot)) continue;
      if (this.fleet.requests[i] || this.fleet.tokens[i] || this.own.requests[i] || this.own.tokens[i]) return false;
      if (this.sent.requests[i] || this.sent.tokens[i] || this.pending.requests[i] || this.pending.tokens[i]) return false;
    }
    return true;
  }

  /** Whether counts wait to be sent. */
  hasPending(): boolean {
    for (let i = 0; i < RING; i++) if (this.pending.requests[i] || this.pending.tokens[i]) return true;
    return false;
  }

  /** Moves the pending counts to `sent`; returns them as [slot, requests, tokens, ...]. */
  send(slot: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < RING; i++) {
      const r = this.pending.requests[i]!;
      const t = this.pending.tokens[i]!;
      if (r === 0 && t === 0) continue;
      if (this.live(i, slot)) {
        out.push(this.slotOf[i]!, r, t);
        this.sent.requests[i] = this.sent.requests[i]! + r;
        this.sent.tokens[i] = this.sent.tokens[i]! + t;
      }
      this.pending.clear(i);
    }
    return out;
  }

  /** Redis took in what was sent and answered the fleet's counts ([slot, requests, tokens, ...]);
   *  `keepFleet`: no answer came, the fleet's counts stay as they were plus what was sent. */
  synced(fleet: readonly number[], slot: number, keepFleet = false): void {
    for (let i = 0; i < RING; i++) {
      this.own.requests[i] = this.own.requests[i]! + this.sent.requests[i]!;
      this.own.tokens[i] = this.own.tokens[i]! + this.sent.tokens[i]!;
      if (keepFleet) {
        this.fleet.requests[i] = this.fleet.requests[i]! + this.sent.requests[i]!;
        this.fleet.tokens[i] = this.fleet.tokens[i]! + this.sent.tokens[i]!;
      }
      this.sent.clear(i);
      if (!keepFleet) this.fleet.clear(i);
    }
    if (keepFleet) return;
    for (let k = 0; k + 2 < fleet.length; k += 3) {
      const s = fleet[k]!;
      if (s > slot - RING && s <= slot) {
        const i = this.index(s);
        this.fleet.requests[i] = fleet[k + 1]!;
        this.fleet.tokens[i] = fleet[k + 2]!;
      }
    }
    // The fleet's counts include at least this proxy's own.
    for (let i = 0; i < RING; i++) {
      if (this.fleet.requests[i]! < this.own.requests[i]!) this.fleet.requests[i] = this.own.requests[i]!;
      if (this.fleet.tokens[i]! < this.own.tokens[i]!) this.fleet.tokens[i] = this.own.tokens[i]!;
    }
  }

  /** The sync failed: what was sent is sent again with the next one. */
  unsent(): void {
    for (let i = 0; i < RING; i++) {
      this.pending.requests[i] = this.pending.requests[i]! + this.sent.requests[i]!;
      this.pending.tokens[i] = this.pending.tokens[i]! + this.sent.tokens[i]!;
      this.sent.clear(i);
    }
  }
}
