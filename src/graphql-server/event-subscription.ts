// One `projectEvents` subscriber: replay from the change log after `afterRevision`, then the live
// events the fan-out pushes, with no gap and no duplicate at the seam (anything at or below the
// last revision handed out is dropped). The live queue is bounded: overflow ends the stream with a
// SlowConsumerError and tells the transport synchronously (graphql-ws closes with 1013).
import { DomainError } from '../domain/errors.ts';
import type { ChangeEvent } from '../feed/events.ts';
import type { DeliveredEvent, StreamOptions } from '../graphql/context.ts';

export const SLOW_CONSUMER_MESSAGE = 'the subscriber reads too slowly: resume with afterRevision';

/** Raised when a subscriber reads too slowly and its bounded queue overflows (graphql-ws: 1013). */
export class SlowConsumerError extends DomainError {
  constructor() {
    super('UNAVAILABLE', SLOW_CONSUMER_MESSAGE);
    this.name = 'SlowConsumerError';
  }
}

/** The access token that opened a stream was deleted or has expired. */
export class TokenEndedError extends DomainError {
  constructor() {
    super('UNAUTHENTICATED', 'the access token of this subscription was deleted or has expired');
    this.name = 'TokenEndedError';
  }
}

export const REPLAY_PAGE = 500;
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** What a subscription needs from the fan-out that holds it. */
export interface SubscriptionDeps<E extends DeliveredEvent> {
  /** events held before the subscriber counts as too slow */
  maxQueue: number;
  /** the project's next page of the change log after a revision (REPLAY_PAGE events at most) */
  replayAfter(revision: number): Promise<ChangeEvent[]>;
  deliver(event: ChangeEvent): E;
  /** adds the subscription to the live fan-out; the function returned takes it out */
  join(subscription: EventSubscription<E>): () => void;
  /** calls `ended` when the access token is deleted or expires; the function returned stops watching */
  watchToken?(tokenId: string, ended: () => void): () => void;
}

export class EventSubscription<E extends DeliveredEvent> implements AsyncIterableIterator<E> {
  private readonly queue: E[] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private finished = false;
  private replaying: boolean;
  private replayExhausted = false;
  private page: ChangeEvent[] = [];
  /** the last revision handed out: anything at or below it is a duplicate */
  private last: number;
  private leave: (() => void) | null;
  private readonly unwatch: (() => void) | null;

  constructor(
    afterRevision: number | null,
    private readonly options: StreamOptions,
    private readonly deps: SubscriptionDeps<E>,
  ) {
    this.replaying = afterRevision !== null;
    this.last = afterRevision ?? 0;
    this.leave = deps.join(this); // listen first, then replay: the seam is deduplicated by revision
    this.unwatch = options.tokenId && deps.watchToken ? deps.watchToken(options.tokenId, () => this.fail(new TokenEndedError())) : null;
  }

  push(delivered: E): void {
    if (!this.leave) return;
    if (this.queue.length >= this.deps.maxQueue) {
      const error = new SlowConsumerError();
      this.fail(error);
      try {
        this.options.onSlowConsumer?.(error);
      } catch {
        // the transport's own business
      }
      return;
    }
    this.queue.push(delivered);
    this.wakeUp();
  }

  /** Ends the stream with an error: the next read (or the one waiting) throws it. */
  fail(error: Error): void {
    if (this.finished || this.failure) return;
    this.failure = error;
    this.detach();
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private detach(): void {
    if (!this.leave) return;
    this.leave();
    this.leave = null;
    this.queue.length = 0;
    this.page = [];
    this.unwatch?.();
  }

  /** A pending failure is thrown once; afterwards the stream is done. */
  private check(): IteratorReturnResult<undefined> | null {
    if (this.failure && !this.finished) {
      const error = this.failure;
      this.finished = true;
      throw error;
    }
    return this.finished ? DONE : null;
  }

  async next(): Promise<IteratorResult<E, undefined>> {
    try {
      const ended = this.check();
      if (ended) return ended;
      const replayed = await this.nextReplayed();
      return replayed ?? (await this.nextLive());
    } catch (error) {
      this.finished = true;
      this.detach();
      throw error;
    }
  }

  /** The next event of the replay, or null once the replay is over. */
  private async nextReplayed(): Promise<IteratorResult<E, undefined> | null> {
    while (this.replaying) {
      const event = this.page.shift();
      if (event) {
        this.last = event.revision;
        return { done: false, value: this.deps.deliver(event) };
      }
      if (this.replayExhausted) {
        this.replaying = false;
        break;
      }
      const page = await this.deps.replayAfter(this.last);
      const stop = this.check();
      if (stop) return stop;
      this.page = page;
      if (page.length < REPLAY_PAGE) this.replayExhausted = true;
    }
    return null;
  }

  private async nextLive(): Promise<IteratorResult<E, undefined>> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        if (next.event.revision <= this.last) continue;
        this.last = next.event.revision;
        return { done: false, value: next };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      const stop = this.check();
      if (stop) return stop;
    }
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    this.finished = true;
    this.detach();
    this.wakeUp();
    return DONE;
  }

  async throw(error?: unknown): Promise<IteratorReturnResult<undefined>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
