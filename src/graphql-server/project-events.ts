// Fans out the control plane's ordered change feed to `projectEvents` subscribers (each one an
// EventSubscription: replay, then live, no gap and no duplicate at the seam).
//
// - One listener on the feed consumer for the whole control plane, however many subscribers come
//   and go; each subscriber is an entry in a per-project set, removed the moment it ends.
// - Each event's apiKey/deployment is read once per selection shape and shared by every
//   subscriber (see `FanOutEvent`), not once per subscriber; a live event's whole result is
//   executed once per kind of subscriber (shared-subscription-results.ts), at most
//   EXECUTION_SLICE of them at a time, each next one after a turn of the event loop (setImmediate):
//   one event with 1,000 distinct selections used to run them all in one burst of microtasks and
//   hold the process (issue 15, finding 2), the proxy's /-/healthz included.
// - A subscription opened with an access token ends (UNAUTHENTICATED) when that token is deleted
//   or expires.
import type { PrismaClient } from '../db/database.ts';
import { sqlOfPrisma } from '../db/sql.ts';
import { headRevision, oldestRetainedRevision } from '../db/statements/index.ts';
import type { TokenWatch } from '../domain/access-tokens.ts';
import { DomainError, badInput } from '../domain/errors.ts';
import { eventsAfter } from '../feed/change-log.ts';
import type { FeedConsumer } from '../feed/consumer.ts';
import type { ChangeEvent } from '../feed/events.ts';
import type { DeliveredEvent, ProjectEvents } from '../graphql/context.ts';
import { deliveredEvent } from '../graphql/delivered-event.ts';
import { EventSubscription, REPLAY_PAGE } from './event-subscription.ts';
import type { SharedEvent } from './shared-subscription-results.ts';

/** A live source of committed events in revision order (the control plane's feed consumer). */
export interface EventSource {
  onEvent(listener: (event: ChangeEvent) => void): () => void;
}

/** The feed consumer as an EventSource; its listeners are counted so tests can check subscriptions never add one. */
export function consumerEventSource(consumer: Pick<FeedConsumer, 'onApplied'>): EventSource & { listeners(): number } {
  let listeners = 0;
  return {
    onEvent: (listener) => {
      listeners++;
      const off = consumer.onApplied((_revision, event) => event && listener(event));
      return () => {
        listeners--;
        off();
      };
    },
    listeners: () => listeners,
  };
}

/**
 * One event as subscribers see it. The loaders are memoised per query: read once per event. A live
 * event is one object handed to every subscriber of its project, so its shared results reach them
 * all; a replayed one is delivered to its subscriber alone.
 */
export interface FanOutEvent extends DeliveredEvent, SharedEvent {}

export interface ProjectEventsFanOut extends ProjectEvents {
  /** live subscribers, for tests and metrics */
  readonly subscriberCount: number;
  /** Ends every stream (UNAVAILABLE: the control plane is shutting down) and leaves the source. */
  close(): void;
}

const shuttingDown = () => new DomainError('UNAVAILABLE', 'the control plane is shutting down: subscribe again with afterRevision');

/** Live executions of events running at once in one fan-out. */
export const EXECUTION_SLICE = 8;

/** A slice still running after this no longer holds back the next (a database read that hangs must not stop the fan-out). */
const SLICE_WAIT_MS = 100;

/**
 * Runs what it is given in slices of at most `size`, one slice per turn of the event loop: a slice
 * starts in a setImmediate once the one before has finished, so I/O (the proxy's requests) is
 * served between any two slices. (One setImmediate per finished task would not do: Node runs
 * every immediate queued before its check phase in one go.)
 */
export function createSlices(size: number) {
  const queue: (() => Promise<unknown>)[] = [];
  let head = 0;
  let busy = false;
  const slice = () => {
    const tasks = queue.slice(head, head + size);
    head += tasks.length;
    if (head === queue.length) queue.length = head = 0;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise((resolve) => (timer = setTimeout(resolve, SLICE_WAIT_MS)));
    void Promise.race([Promise.allSettled(tasks.map((task) => task())), waited]).then(() => {
      clearTimeout(timer);
      if (queue.length > head) setImmediate(slice);
      else busy = false;
    });
  };
  return <T>(produce: () => T | Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => Promise.resolve().then(produce).then(resolve, reject));
      if (!busy) {
        busy = true;
        setImmediate(slice);
      }
    });
}

export function createProjectEvents(deps: {
  prisma: PrismaClient;
  source: EventSource;
  tokens?: TokenWatch;
  /** events held per subscriber before it counts as too slow; default 1000 */
  maxQueue?: number;
}): ProjectEventsFanOut {
  const { prisma, source, tokens } = deps;
  const sql = sqlOfPrisma(prisma);
  const maxQueue = Math.max(1, deps.maxQueue ?? 1000);
  const projects = new Map<string, Set<EventSubscription<FanOutEvent>>>();
  let count = 0;
  let closed = false;
  const inSlices = createSlices(EXECUTION_SLICE);

  const deliver = (event: ChangeEvent): FanOutEvent => {
    const results = new Map<string, unknown>();
    return {
      ...deliveredEvent(prisma, event),
      shareResult: (key, produce) => {
        if (!results.has(key)) results.set(key, inSlices(produce));
        return results.get(key);
      },
    };
  };

  const leave = source.onEvent((event) => {
    const subscribers = projects.get(event.projectId);
    if (!subscribers || subscribers.size === 0) return;
    const delivered = deliver(event);
    for (const s of [...subscribers]) s.push(delivered);
  });

  /** Puts a subscriber in its project's set; the function returned takes it out again. */
  const joinProject = (projectId: string) => (subscription: EventSubscription<FanOutEvent>) => {
    let subscribers = projects.get(projectId);
    if (!subscribers) projects.set(projectId, (subscribers = new Set()));
    const set = subscribers;
    set.add(subscription);
    count++;
    return () => {
      set.delete(subscription);
      if (set.size === 0 && projects.get(projectId) === set) projects.delete(projectId);
      count--;
    };
  };

  /** BAD_USER_INPUT above the head; RESYNC_REQUIRED when the log no longer holds every revision after it. */
  const checkAfterRevision = async (afterRevision: number) => {
    if (afterRevision < 0) throw badInput('afterRevision', 'afterRevision must not be negative');
    const head = await headRevision(sql);
    if (afterRevision > head) throw badInput('afterRevision', `afterRevision is above the head revision (${head})`);
    const oldest = await oldestRetainedRevision(sql);
    if (afterRevision < head && (oldest === null || oldest > afterRevision + 1)) {
      throw new DomainError('RESYNC_REQUIRED', 'the change log no longer holds every revision after afterRevision: refetch, then subscribe from the head');
    }
  };

  return {
    async stream(projectId, afterRevision, options = {}) {
      if (closed) throw shuttingDown();
      if (afterRevision !== null) await checkAfterRevision(afterRevision);
      if (closed) throw shuttingDown();
      return new EventSubscription(afterRevision, options, {
        maxQueue,
        replayAfter: (revision) => eventsAfter(sql, revision, { projectId, limit: REPLAY_PAGE }),
        deliver,
        join: joinProject(projectId),
        watchToken: tokens && ((tokenId, ended) => tokens.watch(tokenId, ended)),
      });
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
        for (const s of [...subscribers]) s.fail(shuttingDown());
      }
    },
  };
}
