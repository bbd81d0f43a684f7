// The ordering half of a feed consumer (consumer.ts holds its lifecycle): events apply strictly
// in revision order. An event that skips a revision is held and the gap is filled from the change
// log; so are messages the transport may have lost (a reconnect, a late subscription) and a head
// that a poll found ahead. A consumer behind the retained log, or whose state failed to apply an
// event, reloads its state wholesale. Catch-ups and reloads run one at a time and never reject:
// one that fails is asked for again by the next poll.
//
// Logs carry revisions and event types only, never payloads (they hold key hashes).
import type { Logger } from 'pino';
import type { ChangeEvent } from './events.ts';

/** Where a consumer reads the change log (feed/change-log.ts: Postgres or the embedded store). */
export interface ChangeSource {
  head(): Promise<number>;
  /** events with revision > `revision`, oldest first, at most `limit` */
  eventsAfter(revision: number, limit: number): Promise<ChangeEvent[]>;
  /** the oldest revision still in the log; null when it is empty */
  oldestRetained(): Promise<number | null>;
}

/**
 * Called after every change of the applied revision, synchronously, in revision order.
 * `event` is the event just applied; null when the state was (re)loaded wholesale to
 * `revision` (the initial load, or a reload after falling behind the retained log).
 */
export type AppliedListener = (revision: number, event: ChangeEvent | null) => void;

export interface FollowerOptions {
  source: ChangeSource;
  initialize(): Promise<number>;
  reload?(): Promise<number>;
  apply(event: ChangeEvent): void;
  log: Logger;
  now: () => number;
  batchSize: number;
  maxBuffered: number;
  /** the state was current at `at` (a load that finished) */
  proven(at: number): void;
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class LogFollower {
  private readonly options: FollowerOptions;
  private readonly log: Logger;

  private appliedRevision = 0;
  private isReady = false;
  private stopped = false;
  /** initialize() or reload() is running: every event is buffered */
  private isLoading = false;
  /** events newer than applied + 1 (or, while loading, any event) */
  private readonly buffer = new Map<number, ChangeEvent>();
  private readonly listeners = new Set<AppliedListener>();

  /** messages may have been missed (reconnect, late subscription): a catch-up must complete */
  private needsCatchUp = false;
  private missedGeneration = 0;
  private worker: Promise<void> | null = null;
  private catchUpRequested = false;
  private reloadRequested = false;
  /** what failed last; the next poll asks for it again */
  private failedWork: 'catch-up' | 'reload' | null = null;

  constructor(options: FollowerOptions) {
    this.options = options;
    this.log = options.log;
  }

  get applied(): number {
    return this.appliedRevision;
  }

  get ready(): boolean {
    return this.isReady && !this.stopped;
  }

  get loading(): boolean {
    return this.isLoading;
  }

  /** Nothing is pending: no gap, catch-up or reload, nothing loading. */
  get settled(): boolean {
    if (this.needsCatchUp || this.isLoading || this.buffer.size > 0 || this.worker) return false;
    return !this.catchUpRequested && !this.reloadRequested && !this.failedWork;
  }

  onApplied(listener: AppliedListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The initial load; every event received meanwhile is held. Resolves to the revision loaded and when it started. */
  async load(): Promise<{ revision: number; startedAt: number }> {
    const startedAt = this.options.now();
    this.isLoading = true;
    try {
      return { revision: await this.options.initialize(), startedAt };
    } catch (error) {
      this.isLoading = false;
      throw error;
    }
  }

  /** The initial load is in: ready from now on. */
  loaded(revision: number, startedAt: number): void {
    this.isReady = true;
    this.finishLoad(revision, startedAt);
  }

  /** Catches up when the initial load left a gap, or events were missed meanwhile. */
  async catchUpIfBehind(): Promise<void> {
    if (this.buffer.size > 0 || this.needsCatchUp || this.catchUpRequested) await this.work();
  }

  stop(): void {
    this.stopped = true;
    this.isReady = false;
    this.buffer.clear();
  }

  clearListeners(): void {
    this.listeners.clear();
  }

  /** Reads the log now. */
  catchUp(): Promise<void> {
    this.catchUpRequested = true;
    return this.work();
  }

  /** Messages may have been lost: catch up, and do not count the feed as proof until done. */
  missed(reason: string): void {
    this.needsCatchUp = true;
    this.missedGeneration += 1;
    this.catchUpRequested = true;
    this.log.info({ reason, applied: this.appliedRevision }, 'change feed catching up from the log');
    if (this.isReady) void this.work();
  }

  /** A poll read `head`: catch up if behind, retry what failed, fill a pending gap. */
  async followHead(head: number): Promise<void> {
    if (head > this.appliedRevision) this.catchUpRequested = true;
    if (this.failedWork === 'reload') this.reloadRequested = true;
    if (this.failedWork === 'catch-up') this.catchUpRequested = true;
    this.failedWork = null;
    if (this.catchUpRequested || this.reloadRequested || this.needsCatchUp || this.buffer.size > 0) {
      if (this.needsCatchUp || this.buffer.size > 0) this.catchUpRequested = true;
      await this.work();
    }
  }

  // ---- events -------------------------------------------------------------------------------

  receive(event: ChangeEvent): void {
    if (this.stopped) return;
    if (this.isLoading || !this.isReady) {
      this.hold(event);
      return;
    }
    this.offer(event);
  }

  /** An event while loaded: apply it if it is next, drop it if old, hold it and catch up if early. */
  private offer(event: ChangeEvent): void {
    if (event.revision <= this.appliedRevision) return;
    if (event.revision === this.appliedRevision + 1) {
      if (this.applyOne(event)) this.drain();
      return;
    }
    this.hold(event);
    this.log.debug({ applied: this.appliedRevision, received: event.revision }, 'change feed gap; catching up');
    this.catchUpRequested = true;
    void this.work();
  }

  private hold(event: ChangeEvent): void {
    if (this.buffer.size >= this.options.maxBuffered && !this.buffer.has(event.revision)) {
      // Re-read from the log by the catch-up that the gap triggers anyway.
      this.catchUpRequested = true;
      return;
    }
    this.buffer.set(event.revision, event);
  }

  /** Applies buffered events that continue the applied revision; forgets older ones. */
  private drain(): void {
    for (const revision of [...this.buffer.keys()]) if (revision <= this.appliedRevision) this.buffer.delete(revision);
    for (;;) {
      const next = this.buffer.get(this.appliedRevision + 1);
      if (!next) return;
      this.buffer.delete(next.revision);
      if (!this.applyOne(next)) return;
    }
  }

  private applyOne(event: ChangeEvent): boolean {
    try {
      this.options.apply(event);
    } catch (error) {
      // The state can no longer be trusted to follow the log: load it again.
      this.log.error({ revision: event.revision, type: event.type, err: errorMessage(error) }, 'applying a change failed; reloading');
      this.reloadRequested = true;
      void this.work();
      return false;
    }
    this.appliedRevision = event.revision;
    this.notify(event.revision, event);
    return true;
  }

  private notify(revision: number, event: ChangeEvent | null): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(revision, event);
      } catch (error) {
        this.log.error({ revision, err: errorMessage(error) }, 'applied listener failed');
      }
    }
  }

  private finishLoad(revision: number, startedAt: number): void {
    this.isLoading = false;
    this.appliedRevision = revision;
    this.options.proven(startedAt);
    this.notify(revision, null);
    this.drain();
  }

  // ---- catch-up and reload ------------------------------------------------------------------

  /** Runs requested catch-ups and reloads one at a time; never rejects. */
  private work(): Promise<void> {
    if (this.stopped || !this.isReady) return Promise.resolve();
    if (!this.worker) {
      this.worker = this.runWork().finally(() => {
        this.worker = null;
        // A request that came in as the loop was finishing.
        if (this.catchUpRequested || this.reloadRequested) void this.work();
      });
    }
    return this.worker;
  }

  private async runWork(): Promise<void> {
    await null; // `this.worker` is set before any work starts
    let rounds = 0;
    while (!this.stopped && (this.catchUpRequested || this.reloadRequested)) {
      const reload = this.reloadRequested;
      this.catchUpRequested = false;
      this.reloadRequested = false;
      const generation = this.missedGeneration;
      try {
        if (reload) await this.doReload('apply failed');
        else await this.doCatchUp();
      } catch (error) {
        this.failedWork = reload ? 'reload' : 'catch-up';
        this.log.warn({ applied: this.appliedRevision, err: errorMessage(error) }, reload ? 'reload failed; retrying on the next poll' : 'catch-up failed; retrying on the next poll');
        return;
      }
      if (this.stopped) return;
      if (generation === this.missedGeneration && this.needsCatchUp) {
        this.needsCatchUp = false;
        this.log.info({ applied: this.appliedRevision }, 'change feed caught up');
      }
      // Events that arrived while the log was read may still leave a gap: read again, a few
      // times, then leave it to the poll.
      if (this.buffer.size > 0 && !this.reloadRequested) {
        rounds += 1;
        if (rounds < 3) this.catchUpRequested = true;
      }
    }
  }

  private async doCatchUp(): Promise<void> {
    const oldest = await this.options.source.oldestRetained();
    if (this.stopped) return;
    if (oldest !== null && oldest > this.appliedRevision + 1) {
      await this.doReload('behind the retained change log');
      return;
    }
    for (;;) {
      const events = await this.options.source.eventsAfter(this.appliedRevision, this.options.batchSize);
      if (this.stopped) return;
      for (const event of events) {
        if (event.revision <= this.appliedRevision) continue;
        if (event.revision !== this.appliedRevision + 1) {
          // The log starts after the revision we need: it was pruned meanwhile.
          await this.doReload('behind the retained change log');
          return;
        }
        if (!this.applyOne(event)) return;
      }
      this.drain();
      if (events.length < this.options.batchSize) return;
    }
  }

  private async doReload(reason: string): Promise<void> {
    this.log.warn({ applied: this.appliedRevision, reason }, 'reloading the state');
    const startedAt = this.options.now();
    this.isLoading = true;
    let revision: number;
    try {
      revision = await (this.options.reload ?? this.options.initialize)();
    } catch (error) {
      // The old state stands; events held meanwhile that continue it still apply.
      this.isLoading = false;
      this.drain();
      throw error;
    }
    if (this.stopped) return;
    this.finishLoad(revision, startedAt);
    this.log.info({ revision }, 'state reloaded');
    // Events committed between the load and now are read by a catch-up.
    this.catchUpRequested = true;
  }
}
