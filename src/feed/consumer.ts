// Consuming the change feed (DESIGN.md, change-feed protocol, steps 3 and 6), the same way in a
// proxy and in a control plane: subscribe first, load a state and the revision it reflects,
// apply newer buffered events, then be ready. Events apply strictly in revision order; a
// skipped revision, a reconnect of the transport and a head poll that finds the consumer behind
// all trigger a catch-up read of the change log; a consumer behind the retained log reloads.
//
// Staleness: the consumer proves itself current by a head poll that finds applied ≥ head, or by
// the caller's markCurrent() (a lease renewal that succeeded) while the subscription is healthy
// and no gap or catch-up is pending. Unable to prove it for maxStalenessMs, its status is
// 'feed_unavailable' until it proves it again.
//
// Logs carry revisions and event types only, never payloads (they hold key hashes).
import type { Logger } from 'pino';
import type { ChangeEvent } from './events.ts';
import type { Feed, FeedHandlers, Unsubscribe } from './feed.ts';

/** Where a consumer reads the change log (feed/change-log.ts: Postgres or the embedded store). */
export interface ChangeSource {
  head(): Promise<number>;
  /** events with revision > `revision`, oldest first, at most `limit` */
  eventsAfter(revision: number, limit: number): Promise<ChangeEvent[]>;
  /** the oldest revision still in the log; null when it is empty */
  oldestRetained(): Promise<number | null>;
}

export type ConsumerStatus = 'not_ready' | 'ready' | 'feed_unavailable';

/**
 * Called after every change of the applied revision, synchronously, in revision order.
 * `event` is the event just applied; null when the state was (re)loaded wholesale to
 * `revision` (the initial load, or a reload after falling behind the retained log).
 */
export type AppliedListener = (revision: number, event: ChangeEvent | null) => void;

export interface FeedConsumerOptions {
  feed: Feed;
  source: ChangeSource;
  /** Loads the state (a proxy: a snapshot into its table) and returns the revision it reflects. */
  initialize(): Promise<number>;
  /** Like initialize, used when the consumer is behind the retained log; defaults to initialize. */
  reload?(): Promise<number>;
  /** Applies one event to the state; called in revision order, never concurrently. */
  apply(event: ChangeEvent): void;
  pollIntervalMs: number;
  maxStalenessMs: number;
  log: Logger;
  now?: () => number;
  /** events per catch-up read; default 500 */
  batchSize?: number;
  /** most out-of-order events held while a gap is filled; default 10000 (the rest are re-read) */
  maxBuffered?: number;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class FeedConsumer {
  private readonly options: FeedConsumerOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly batchSize: number;
  private readonly maxBuffered: number;

  private appliedRevision = 0;
  private isReady = false;
  private started = false;
  private stopped = false;
  /** initialize() or reload() is running: every event is buffered */
  private loading = false;
  /** events newer than applied + 1 (or, while loading, any event) */
  private readonly buffer = new Map<number, ChangeEvent>();
  private readonly listeners = new Set<AppliedListener>();
  private readonly statusListeners = new Set<(status: ConsumerStatus) => void>();

  private unsubscribe: Unsubscribe | null = null;
  private subscribing = false;
  /** the transport's subscription is up (false after onDisconnect until onReconnect) */
  private feedConnected = false;
  /** messages may have been missed (reconnect, late subscription): a catch-up must complete */
  private needsCatchUp = false;
  private missedGeneration = 0;

  private worker: Promise<void> | null = null;
  private catchUpRequested = false;
  private reloadRequested = false;
  /** what failed last; the next poll asks for it again */
  private failedWork: 'catch-up' | 'reload' | null = null;

  private lastCurrentAt = 0;
  private lastStatus: ConsumerStatus = 'not_ready';
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private pollFailing = false;

  private readonly handlers: FeedHandlers = {
    onEvent: (event) => this.onEvent(event),
    onReconnect: () => {
      if (this.stopped) return;
      this.feedConnected = true;
      this.missed('reconnect');
    },
    onDisconnect: () => {
      if (this.stopped) return;
      if (this.feedConnected) this.log.warn('change feed subscription lost; relying on polling until it is back');
      this.feedConnected = false;
    },
  };

  constructor(options: FeedConsumerOptions) {
    this.options = options;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.batchSize = options.batchSize ?? 500;
    this.maxBuffered = options.maxBuffered ?? 10_000;
  }

  /** The revision the state reflects. */
  get applied(): number {
    return this.appliedRevision;
  }

  get ready(): boolean {
    return this.isReady && !this.stopped;
  }

  status(): ConsumerStatus {
    if (!this.ready) return 'not_ready';
    return this.now() - this.lastCurrentAt > this.options.maxStalenessMs ? 'feed_unavailable' : 'ready';
  }

  onApplied(listener: AppliedListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Called on every status transition (for metrics); the transitions are logged too. */
  onStatusChange(listener: (status: ConsumerStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  /**
   * The caller has evidence the feed is healthy (a lease renewal succeeded). Counts as proof
   * of being current only while the subscription is up and no gap, catch-up or reload is
   * pending. Returns whether it counted.
   */
  markCurrent(): boolean {
    if (!this.ready || !this.feedConnected || this.needsCatchUp || this.loading) return false;
    if (this.buffer.size > 0 || this.worker || this.catchUpRequested || this.reloadRequested || this.failedWork) return false;
    this.proven(this.now());
    return true;
  }

  /**
   * Subscribes (awaited), loads the state, applies buffered newer events, then is ready.
   * A failed subscription is not fatal: the consumer polls and retries it. A failed
   * initialize() rejects (and stops the consumer).
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('FeedConsumer.start() was already called');
    this.started = true;
    await this.trySubscribe(true);
    if (this.stopped) return;

    const startedAt = this.now();
    this.loading = true;
    let revision: number;
    try {
      revision = await this.options.initialize();
    } catch (error) {
      this.loading = false;
      await this.stop();
      throw error;
    }
    if (this.stopped) return;
    this.isReady = true;
    this.finishLoad(revision, startedAt);
    this.log.info({ revision, feed: this.options.feed.kind }, 'change feed consumer ready');
    this.checkStatus();

    this.pollTimer = setInterval(() => this.tick(), Math.max(1, this.options.pollIntervalMs));
    this.pollTimer.unref();
    // A gap left by the buffered events, or events missed while the subscription was failing.
    if (this.buffer.size > 0 || this.needsCatchUp || this.catchUpRequested) await this.work();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.isReady = false;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.buffer.clear();
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe) await unsubscribe().catch(() => {});
    this.listeners.clear();
    this.statusListeners.clear();
  }

  /** Reads the log now, as a poll that found the consumer behind would. */
  catchUp(): Promise<void> {
    this.catchUpRequested = true;
    return this.work();
  }

  // ---- events -------------------------------------------------------------------------------

  private onEvent(event: ChangeEvent): void {
    if (this.stopped) return;
    if (this.loading || !this.isReady) {
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
    if (this.buffer.size >= this.maxBuffered && !this.buffer.has(event.revision)) {
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
    this.loading = false;
    this.appliedRevision = revision;
    this.proven(startedAt);
    this.notify(revision, null);
    this.drain();
  }

  // ---- catch-up and reload ------------------------------------------------------------------

  /** Messages may have been lost: catch up, and do not count the feed as proof until done. */
  private missed(reason: string): void {
    this.needsCatchUp = true;
    this.missedGeneration += 1;
    this.catchUpRequested = true;
    this.log.info({ reason, applied: this.appliedRevision }, 'change feed catching up from the log');
    if (this.isReady) void this.work();
  }

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
      const events = await this.options.source.eventsAfter(this.appliedRevision, this.batchSize);
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
      if (events.length < this.batchSize) return;
    }
  }

  private async doReload(reason: string): Promise<void> {
    this.log.warn({ applied: this.appliedRevision, reason }, 'reloading the state');
    const startedAt = this.now();
    this.loading = true;
    let revision: number;
    try {
      revision = await (this.options.reload ?? this.options.initialize)();
    } catch (error) {
      // The old state stands; events held meanwhile that continue it still apply.
      this.loading = false;
      this.drain();
      throw error;
    }
    if (this.stopped) return;
    this.finishLoad(revision, startedAt);
    this.log.info({ revision }, 'state reloaded');
    // Events committed between the load and now are read by a catch-up.
    this.catchUpRequested = true;
  }

  // ---- poll, subscription retry, staleness --------------------------------------------------

  private async trySubscribe(initial: boolean): Promise<void> {
    if (this.subscribing || this.unsubscribe || this.stopped) return;
    this.subscribing = true;
    try {
      const unsubscribe = await this.options.feed.subscribe(this.handlers);
      if (this.stopped) {
        await unsubscribe().catch(() => {});
        return;
      }
      this.unsubscribe = unsubscribe;
      this.feedConnected = true;
      if (!initial) {
        this.log.info('change feed subscription established');
        this.missed('late subscription');
      }
    } catch (error) {
      if (initial) this.log.warn({ err: errorMessage(error) }, 'change feed subscription failed; polling and retrying');
      else this.log.debug({ err: errorMessage(error) }, 'change feed subscription still failing');
    } finally {
      this.subscribing = false;
    }
  }

  private tick(): void {
    this.checkStatus();
    if (this.polling || this.stopped) return;
    this.polling = true;
    this.poll()
      .catch(() => {})
      .finally(() => {
        this.polling = false;
        this.checkStatus();
      });
  }

  private async poll(): Promise<void> {
    if (!this.unsubscribe) await this.trySubscribe(false);
    const startedAt = this.now();
    let head: number;
    try {
      head = await this.options.source.head();
    } catch (error) {
      if (!this.pollFailing) this.log.warn({ err: errorMessage(error) }, 'head poll failed');
      this.pollFailing = true;
      return;
    }
    if (this.pollFailing) this.log.info('head poll works again');
    this.pollFailing = false;
    if (this.stopped) return;
    if (head > this.appliedRevision) this.catchUpRequested = true;
    if (this.failedWork === 'reload') this.reloadRequested = true;
    if (this.failedWork === 'catch-up') this.catchUpRequested = true;
    this.failedWork = null;
    if (this.catchUpRequested || this.reloadRequested || this.needsCatchUp || this.buffer.size > 0) {
      if (this.needsCatchUp || this.buffer.size > 0) this.catchUpRequested = true;
      await this.work();
    }
    // applied ≥ the head read after startedAt: the state was current at startedAt.
    if (this.appliedRevision >= head && !this.loading) this.proven(startedAt);
  }

  private proven(at: number): void {
    if (at > this.lastCurrentAt) this.lastCurrentAt = at;
    this.checkStatus();
  }

  private checkStatus(): void {
    const status = this.status();
    if (status === this.lastStatus) return;
    const previous = this.lastStatus;
    this.lastStatus = status;
    if (status === 'feed_unavailable') {
      this.log.warn({ applied: this.appliedRevision, maxStalenessMs: this.options.maxStalenessMs }, 'cannot prove the state is current: feed_unavailable');
    } else if (status === 'ready' && previous === 'feed_unavailable') {
      this.log.info({ applied: this.appliedRevision }, 'state proven current again');
    }
    for (const listener of [...this.statusListeners]) {
      try {
        listener(status);
      } catch (error) {
        this.log.error({ err: errorMessage(error) }, 'status listener failed');
      }
    }
  }
}
