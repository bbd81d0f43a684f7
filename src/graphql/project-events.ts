// Fans out the control plane's ordered change feed to `projectEvents` subscribers: replay from
// the change log after `afterRevision`, then live, with no gap and no duplicate at the seam.
// Each event's apiKey/deployment is read once and shared by every subscriber.
import type { PrismaClient } from '../db/database.ts';
import { eventsAfter, headRevision, oldestRetainedRevision } from '../domain/change-log.ts';
import { DomainError, badInput } from '../domain/errors.ts';
import type { ChangeEvent } from '../feed/events.ts';

/** A live source of committed events in revision order (the control plane's feed consumer). */
export interface EventSource {
  onEvent(listener: (event: ChangeEvent) => void): () => void;
}

export interface DeliveredEvent {
  event: ChangeEvent;
  apiKey(): Promise<unknown>;
  deployment(): Promise<unknown>;
}

export interface ProjectEvents {
  stream(projectId: string, afterRevision: number | null, signal?: AbortSignal): AsyncIterable<DeliveredEvent>;
  /** live subscribers, for tests and metrics */
  readonly subscriberCount: number;
}

/** Raised when a subscriber reads too slowly and its bounded queue overflows (graphql-ws: 1013). */
export class SlowConsumerError extends Error {
  constructor() {
    super('the subscriber reads too slowly: resume with afterRevision');
    this.name = 'SlowConsumerError';
  }
}

const REPLAY_PAGE = 500;

export function createProjectEvents(deps: { prisma: PrismaClient; source: EventSource; maxQueue?: number }): ProjectEvents {
  const { prisma, source } = deps;
  const maxQueue = deps.maxQueue ?? 1000;
  const subscribers = new Map<string, Set<(d: DeliveredEvent) => void>>();
  let count = 0;

  const memo = <T>(load: () => Promise<T>) => {
    let p: Promise<T> | undefined;
    return () => (p ??= load());
  };
  const deliver = (event: ChangeEvent): DeliveredEvent => {
    const { apiKeyId, deploymentId } = event.payload;
    return {
      event,
      apiKey: memo(async () => (apiKeyId ? prisma.apiKey.findUnique({ where: { id: apiKeyId } }) : null)),
      deployment: memo(async () => (deploymentId ? prisma.deployment.findUnique({ where: { id: deploymentId } }) : null)),
    };
  };

  source.onEvent((event) => {
    const listeners = subscribers.get(event.projectId);
    if (!listeners || listeners.size === 0) return;
    const delivered = deliver(event);
    for (const l of listeners) l(delivered);
  });

  async function* stream(projectId: string, afterRevision: number | null, signal?: AbortSignal): AsyncGenerator<DeliveredEvent> {
    if (afterRevision !== null) {
      if (afterRevision < 0) throw badInput('afterRevision', 'afterRevision must not be negative');
      const head = await headRevision(prisma);
      if (afterRevision > head) throw badInput('afterRevision', `afterRevision is above the head revision (${head})`);
      const oldest = await oldestRetainedRevision(prisma);
      if (afterRevision < head && (oldest === null || oldest > afterRevision + 1)) {
        throw new DomainError('RESYNC_REQUIRED', 'the change log no longer holds every revision after afterRevision: refetch, then subscribe from the head');
      }
    }
    const queue: DeliveredEvent[] = [];
    let wake: (() => void) | null = null;
    let overflow = false;
    const listener = (d: DeliveredEvent) => {
      if (queue.length >= maxQueue) overflow = true;
      else queue.push(d);
      wake?.();
    };
    let listeners = subscribers.get(projectId);
    if (!listeners) subscribers.set(projectId, (listeners = new Set()));
    listeners.add(listener); // listen first, then replay: the seam is deduplicated by revision
    count++;
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      let last = afterRevision ?? Number.MAX_SAFE_INTEGER;
      if (afterRevision !== null) {
        for (;;) {
          const page = await eventsAfter(prisma, last, { projectId, limit: REPLAY_PAGE });
          for (const e of page) {
            yield deliver(e);
            last = e.revision;
          }
          if (page.length < REPLAY_PAGE) break;
        }
      }
      while (!signal?.aborted) {
        if (overflow) throw new SlowConsumerError();
        const next = queue.shift();
        if (next) {
          if (afterRevision !== null && next.event.revision <= last) continue;
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      listeners.delete(listener);
      if (listeners.size === 0) subscribers.delete(projectId);
      count--;
    }
  }

  return {
    stream,
    get subscriberCount() {
      return count;
    },
  };
}
