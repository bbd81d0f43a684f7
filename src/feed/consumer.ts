// Consuming the change feed (docs: change-feed protocol, steps 3 and 6), the same way in a
// proxy and in a control plane: subscribe first, load a state and the revision it reflects,
// apply newer buffered events, then be ready. This file is the consumer's lifecycle: the
// subscription and its retries, the head poll and staleness. Applying events in revision order,
// filling gaps from the change log and reloading are follower.ts.
//
// Staleness: the consumer proves itself current by a head poll that finds applied ≥ head, or by
// the caller's markCurrent() (a lease renewal that succeeded) while the subscription is healthy
// and no gap or catch-up is pending. Unable to prove it for maxStalenessMs, its status is
// 'feed_unavailable' until it proves it again.
import type { Logger } from 'pino';
import type { ChangeEvent } from './events.ts';
import type { Feed, FeedHandlers, Unsubscribe } from './feed.ts';
import { type AppliedListener, type ChangeSource, errorMessage, LogFollower } from './follower.ts';

export type ConsumerStatus = 'not_ready' | 'ready' | 'feed_unavailable';

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

export class FeedConsumer {
  private readonly options: FeedConsumerOptions;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly follower: LogFollower;

  private started = false;
  private stopped = false;
  private readonly statusListeners = new Set<(status: ConsumerStatus) => void>();

  private unsubscribe: Unsubscribe | null = null;
  private subscribing = false;
  /** the transport's subscription is up (false after onDisconnect until onReconnect) */
  private feedConnected = false;

  private lastCurrentAt = 0;
  private lastStatus: ConsumerStatus = 'not_ready';
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private pollFailing = false;

  private readonly handlers: FeedHandlers = {
    onEvent: (event) => {
      if (!this.stopped) this.follower.receive(event);
    },
    onReconnect: () => {
      if (this.stopped) return;
      this.feedConnected = true;
      this.follower.missed('reconnect');
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
    this.follower = new LogFollower({
      source: options.source,
      initialize: options.initialize,
      reload: options.reload,
      apply: options.apply,
      log: options.log,
      now: this.now,
      batchSize: options.batchSize ?? 500,
      maxBuffered: options.maxBuffered ?? 10_000,
      proven: (at) => this.proven(at),
    });
  }

  /** The revision the state reflects. */
  get applied(): number {
    return this.follower.applied;
  }

  get ready(): boolean {
    return this.follower.ready && !this.stopped;
  }

  status(): ConsumerStatus {
    if (!this.ready) return 'not_ready';
    return this.now() - this.lastCurrentAt > this.options.maxStalenessMs ? 'feed_unavailable' : 'ready';
  }

  onApplied(listener: AppliedListener): () => void {
    return this.follower.onApplied(listener);
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
    if (!this.ready || !this.feedConnected || !this.follower.settled) return false;
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

    let loaded: { revision: number; startedAt: number };
    try {
      loaded = await this.follower.load();
    } catch (error) {
      await this.stop();
      throw error;
    }
    if (this.stopped) return;
    this.follower.loaded(loaded.revision, loaded.startedAt);
    this.log.info({ revision: loaded.revision, feed: this.options.feed.kind }, 'change feed consumer ready');
    this.checkStatus();

    this.pollTimer = setInterval(() => this.tick(), Math.max(1, this.options.pollIntervalMs));
    this.pollTimer.unref();
    // A gap left by the buffered events, or events missed while the subscription was failing.
    await this.follower.catchUpIfBehind();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.follower.stop();
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    if (unsubscribe) await unsubscribe().catch(() => {});
    this.follower.clearListeners();
    this.statusListeners.clear();
  }

  /** Reads the log now, as a poll that found the consumer behind would. */
  catchUp(): Promise<void> {
    return this.follower.catchUp();
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
        this.follower.missed('late subscription');
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
    await this.follower.followHead(head);
    // applied ≥ the head read after startedAt: the state was current at startedAt.
    if (this.follower.applied >= head && !this.follower.loading) this.proven(startedAt);
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
      this.log.warn({ applied: this.follower.applied, maxStalenessMs: this.options.maxStalenessMs }, 'cannot prove the state is current: feed_unavailable');
    } else if (status === 'ready' && previous === 'feed_unavailable') {
      this.log.info({ applied: this.follower.applied }, 'state proven current again');
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
