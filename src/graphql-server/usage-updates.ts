// Fans out the usage batches the proxies publish on the feed to `usageUpdates` subscribers, per
// project. Live only: the history is in the usage tables, so there is no replay and no revision.
// One listener on the feed for the whole control plane; each subscriber holds at most `maxQueue`
// unread updates, and one that reads too slowly is ended (UNAVAILABLE; only this subscription: a
// live-only stream has nothing to resume) rather than buffered without limit. A stream opened with
// an access token ends (UNAUTHENTICATED) when the token is deleted or expires.
import { Repeater } from 'graphql-yoga';
import type { TokenWatch } from '../domain/access-tokens.ts';
import { DomainError } from '../domain/errors.ts';
import type { DeliveredUsage, UsageUpdates } from '../graphql/context.ts';
import type { UsageBatch } from '../usage/usage-update.ts';
import { TokenEndedError } from './event-subscription.ts';

export interface UsageSource {
  onUsage(listener: (batch: UsageBatch) => void): () => void;
}

export interface UsageUpdatesFanOut extends UsageUpdates {
  /** live subscribers, for tests and metrics */
  readonly subscriberCount: number;
  /** Ends every stream (UNAVAILABLE) and leaves the source. */
  close(): void;
}

const slow = () => new DomainError('UNAVAILABLE', 'the subscriber reads usage updates too slowly: subscribe again');
const closing = () => new DomainError('UNAVAILABLE', 'the control plane is shutting down: subscribe again');

export function createUsageUpdates(deps: { source: UsageSource; tokens?: TokenWatch; maxQueue?: number }): UsageUpdatesFanOut {
  const maxQueue = Math.max(1, deps.maxQueue ?? 1000);
  /** project id → the push functions of its subscribers */
  const projects = new Map<string, Set<(update: DeliveredUsage) => void>>();
  /** how to end each open stream (close() ends them all) */
  const open = new Set<(error: Error) => void>();
  let closed = false;

  const leave = deps.source.onUsage((batch) => {
    if (projects.size === 0) return;
    const at = new Date(batch.at);
    for (const update of batch.updates) {
      const subscribers = projects.get(update.projectId);
      if (!subscribers) continue;
      const delivered: DeliveredUsage = { ...update, at };
      for (const push of [...subscribers]) push(delivered);
    }
  });

  return {
    stream(projectId, options = {}) {
      if (closed) throw closing();
      // A Repeater's return() ends it at once, even while a read waits; its stop() runs the cleanup.
      return new Repeater<DeliveredUsage>(async (push, stop) => {
        let queued = 0;
        const deliver = (update: DeliveredUsage) => {
          if (queued >= maxQueue) return void stop(slow());
          queued++;
          push(update).then(() => queued--, () => {});
        };
        let subscribers = projects.get(projectId);
        if (!subscribers) projects.set(projectId, (subscribers = new Set()));
        subscribers.add(deliver);
        open.add(stop);
        const unwatch = options.tokenId && deps.tokens ? deps.tokens.watch(options.tokenId, () => stop(new TokenEndedError())) : null;
        await stop;
        subscribers.delete(deliver);
        if (subscribers.size === 0 && projects.get(projectId) === subscribers) projects.delete(projectId);
        open.delete(stop);
        unwatch?.();
      });
    },
    get subscriberCount() {
      return open.size;
    },
    close() {
      if (closed) return;
      closed = true;
      leave();
      for (const stop of [...open]) stop(closing());
    },
  };
}
