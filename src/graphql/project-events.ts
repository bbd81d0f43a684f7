// Fans out the control plane's ordered change feed to `projectEvents` subscribers: replay from
// the change log after `afterRevision`, then live, with no gap and no duplicate at the seam.
//
// - One listener on the feed consumer for the whole control plane, however many subscribers come
//   and go; each subscriber is an entry in a per-project set, removed the moment it ends.
// - Each event's apiKey/deployment is read once per selection shape and shared by every
//   subscriber (see `DeliveredEvent`), not once per subscriber; a live event's whole result is
//   executed once per kind of subscriber (shared-subscription-results.ts).
// - Each subscriber has a bounded queue. Overflow ends the subscription at once with a
//   SlowConsumerError (the transport is told synchronously: graphql-ws closes with 1013); the
//   client resumes with afterRevision and loses nothing.
// - A subscription opened with an access token ends (UNAUTHENTICATED) when that token is deleted
//   or expires.
import type { PrismaClient } from '../db/database.ts';
import type { TokenWatch } from '../domain/access-tokens.ts';
import { sqlOfPrisma } from '../db/sql.ts';
import { headRevision, oldestRetainedRevision } from '../db/statements/index.ts';
import { eventsAfter } from '../feed/change-log.ts';
import { DomainError, badInput } from '../domain/errors.ts';
import type { ChangeEvent } from '../feed/events.ts';
import type { SharedEvent } from './shared-subscription-results.ts';

/** A live source of committed events in revision order (the control plane's feed consumer). */
export interface EventSource {
  onEvent(listener: (event: ChangeEvent) => void): () => void;
}

/** A Prisma `select`/`include` for one model, as `queryFromInfo` builds it. */
export type ModelQuery = Record<string, unknown>;

/**
 * One event as subscribers see it. The loaders are memoised per query: read once per event. A live
 * event is one object handed to every subscriber of its project, so its shared results reach them
 * all; a replayed one is delivered to its subscriber alone.
 */
export interface DeliveredEvent extends SharedEvent {
  event: ChangeEvent;
  apiKey(query?: ModelQuery): Promise<unknown>;
  deployment(query?: ModelQuery): Promise<unknown>;
}

export interface StreamOptions {
  /** the access token that opens the stream; null or absent: never revoked (the env admin token) */
  tokenId?: string | null;
  /** told synchronously when the subscriber's queue overflows, so the transport can end the connection */
  onSlowConsumer?: (error: SlowConsumerError) => void;
}

export interface ProjectEvents {
  /**
   * Checks afterRevision (BAD_USER_INPUT above the head, RESYNC_REQUIRED below the retained log),
   * then opens the stream. The iterator's return() ends it at once, even while it waits.
   */
  stream(projectId: string, afterRevision: number | null, options?: StreamOptions): Promise<AsyncIterableIterator<DeliveredEvent>>;
  /** live subscribers, for tests and metrics */
  readonly subscriberCount: number;
  /** Ends every stream (UNAVAILABLE: the control plane is shutting down) and leaves the source. */
  close(): void;
}

/** Context field a transport adds so a slow subscriber's whole connection can be ended (graphql-ws: 1013). */
export interface SlowConsumerHook {
  onSlowConsumer?: (error: SlowConsumerError) => void;
}

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

const REPLAY_PAGE = 500;
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export function createProjectEvents(deps: {
  prisma: PrismaClient;
  source: EventSource;
  tokens?: TokenWatch;
  /** events held per subscriber before it counts as too slow; default 1000 */
  maxQueue?: number;
}): ProjectEvents {
  const { prisma, source, tokens } = deps;
  const sql = sqlOfPrisma(prisma);
  const maxQueue = Math.max(1, deps.maxQueue ?? 1000);
  const projects = new Map<string, Set<Subscription>>();
  let count = 0;
  let closed = false;

  const memoByQuery = (load: (query: ModelQuery | undefined) => Promise<unknown>) => {
    const cache = new Map<string, Promise<unknown>>();
    return (query?: ModelQuery) => {
      const key = query ? JSON.stringify(query) : '';
      let loaded = cache.get(key);
      if (!loaded) cache.set(key, (loaded = load(query)));
      return loaded;
    };
  };
  const deliver = (event: ChangeEvent): DeliveredEvent => {
    const { apiKeyId, deploymentId } = event.payload;
    const results = new Map<string, unknown>();
    return {
      event,
      shareResult: (key, produce) => {
        if (!results.has(key)) results.set(key, produce());
        return results.get(key);
      },
      apiKey: memoByQuery(async (query) => (apiKeyId ? prisma.apiKey.findUnique({ ...query, where: { id: apiKeyId } }) : null)),
      deployment: memoByQuery(async (query) => (deploymentId ? prisma.deployment.findUnique({ ...query, where: { id: deploymentId } }) : null)),
    };
  };

  const leave = source.onEvent((event) => {
    const subscribers = projects.get(event.projectId);
    if (!subscribers || subscribers.size === 0) return;
    const delivered = deliver(event);
    for (const s of [...subscribers]) s.push(delivered);
  });

  class Subscription implements AsyncIterableIterator<DeliveredEvent> {
    private readonly queue: DeliveredEvent[] = [];
    private wake: (() => void) | null = null;
    private failure: Error | null = null;
    private finished = false;
    private attached = true;
    private replaying: boolean;
    private replayExhausted = false;
    private page: ChangeEvent[] = [];
    /** the last revision handed out: anything at or below it is a duplicate */
    private last: number;
    private readonly unwatch: (() => void) | null;
    private readonly subscribers: Set<Subscription>;

    constructor(
      private readonly projectId: string,
      afterRevision: number | null,
      private readonly options: StreamOptions,
    ) {
      this.replaying = afterRevision !== null;
      this.last = afterRevision ?? 0;
      let subscribers = projects.get(projectId);
      if (!subscribers) projects.set(projectId, (subscribers = new Set()));
      this.subscribers = subscribers;
      subscribers.add(this); // listen first, then replay: the seam is deduplicated by revision
      count++;
      this.unwatch = options.tokenId && tokens ? tokens.watch(options.tokenId, () => this.fail(new TokenEndedError())) : null;
    }

    push(delivered: DeliveredEvent): void {
      if (!this.attached) return;
      if (this.queue.length >= maxQueue) {
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
      if (!this.attached) return;
      this.attached = false;
      this.queue.length = 0;
      this.page = [];
      this.subscribers.delete(this);
      if (this.subscribers.size === 0 && projects.get(this.projectId) === this.subscribers) projects.delete(this.projectId);
      count--;
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

    async next(): Promise<IteratorResult<DeliveredEvent, undefined>> {
      try {
        const ended = this.check();
        if (ended) return ended;
        while (this.replaying) {
          const event = this.page.shift();
          if (event) {
            this.last = event.revision;
            return { done: false, value: deliver(event) };
          }
          if (this.replayExhausted) {
            this.replaying = false;
            break;
          }
          const page = await eventsAfter(sql, this.last, { projectId: this.projectId, limit: REPLAY_PAGE });
          const stop = this.check();
          if (stop) return stop;
          this.page = page;
          if (page.length < REPLAY_PAGE) this.replayExhausted = true;
        }
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
      } catch (error) {
        this.finished = true;
        this.detach();
        throw error;
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

  return {
    async stream(projectId, afterRevision, options = {}) {
      if (closed) throw new DomainError('UNAVAILABLE', 'the control plane is shutting down: subscribe again with afterRevision');
      if (afterRevision !== null) {
        if (afterRevision < 0) throw badInput('afterRevision', 'afterRevision must not be negative');
        const head = await headRevision(sql);
        if (afterRevision > head) throw badInput('afterRevision', `afterRevision is above the head revision (${head})`);
        const oldest = await oldestRetainedRevision(sql);
        if (afterRevision < head && (oldest === null || oldest > afterRevision + 1)) {
          throw new DomainError('RESYNC_REQUIRED', 'the change log no longer holds every revision after afterRevision: refetch, then subscribe from the head');
        }
      }
      if (closed) throw new DomainError('UNAVAILABLE', 'the control plane is shutting down: subscribe again with afterRevision');
      return new Subscription(projectId, afterRevision, options);
    },
    get subscriberCount() {
      return count;
    },
    close() {
      if (closed) return;
      closed = true;
      leave();
      // Every live subscription is in `projects` until it detaches.
      for (const subscribers of [...projects.values()]) {
        for (const s of [...subscribers]) s.fail(new DomainError('UNAVAILABLE', 'the control plane is shutting down: subscribe again with afterRevision'));
      }
    },
  };
}
