// Confirmation (docs: change-feed protocol, step 5): after publishing, wait until every proxy
// whose lease is live has applied the revision, up to the propagation timeout; and the
// confirmations one answer waits for, so a mutation answers only once its change holds. Acks are
// aggregated (redis-leases.ts): the wait reads the fleet once, then listens for the fleet's floor
// to reach the revision, one message per change whatever the number of proxies.
import type { Feed, FleetProgress } from './feed.ts';

export interface Propagation {
  revision: number;
  confirmed: boolean;
  appliedBy: number;
  expected: number;
}

/** What the waiting saw beyond the answer: which live proxies had not applied it (for the operator's log). */
export interface PropagationOutcome extends Propagation {
  /** ids of the proxies whose lease was live but which had not applied the revision in time */
  lagging: string[];
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Waits for every live proxy to reach `revision`. `published` settles to false when the event
 * could not be published: then it reports without waiting, committed but not confirmed. A
 * publish still under way is awaited alongside the read of the fleet, saving a round trip.
 */
export async function waitForPropagation(
  feed: Feed,
  revision: number,
  options: { timeoutMs: number; published: boolean | Promise<boolean> },
): Promise<PropagationOutcome> {
  const started = Date.now();
  /** the live fleet once an announcement showed all of it at or above the revision */
  let reached: number | null = null;
  let wake: () => void = () => {};
  // Listen before reading the fleet, so an announcement made in between is not missed.
  const stopListening = feed.onFleetApplied((floor, live) => {
    if (reached !== null || (floor < revision && live > 0)) return;
    reached = live;
    wake();
  });
  const confirmed = (live: number): PropagationOutcome => ({ revision, confirmed: true, appliedBy: live, expected: live, lagging: [] });
  try {
    let progress: FleetProgress;
    let published: boolean;
    try {
      [progress, published] = await Promise.all([withTimeout(feed.fleetProgress(revision, false), options.timeoutMs), options.published]);
    } catch {
      return { revision, confirmed: false, appliedBy: 0, expected: 0, lagging: [] };
    }
    if (published && progress.applied >= progress.live) return confirmed(progress.live);
    // A proxy with a legacy lease is never announced: only the last read can find it applied.
    if (published && progress.legacyLagging === 0) {
      if (reached !== null) return confirmed(reached);
      const remaining = Math.max(0, options.timeoutMs - (Date.now() - started));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (reached !== null) return confirmed(reached);
    } else if (published) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, options.timeoutMs - (Date.now() - started))));
    }
    // Not announced in time (or not published): read once more, naming the lagging proxies.
    const last = await withTimeout(feed.fleetProgress(revision, true), options.timeoutMs).catch(() => null);
    if (!last) return { revision, confirmed: false, appliedBy: progress.applied, expected: progress.live, lagging: [] };
    return { revision, confirmed: published && last.applied >= last.live, appliedBy: last.applied, expected: last.live, lagging: last.lagging };
  } finally {
    stopListening();
  }
}

declare const held: unique symbol;
/** A propagation an answer waits for: only Confirmations.awaitBeforeAnswer makes one. */
export type HeldPropagation = Promise<Propagation> & { readonly [held]: true };

/**
 * The confirmations one answer (one GraphQL operation) waits for. A mutation answers only once
 * its change is confirmed by the proxies or timed out, whether or not the client asked for
 * `propagation`: "takes effect on the next request after saving" must hold for every client.
 */
export interface Confirmations {
  /**
   * The answer will wait for this outcome's propagation. It is handed back marked as held, which
   * is the only form the API's payloads accept, so a mutation cannot skip this step.
   */
  awaitBeforeAnswer<T extends { propagation: Promise<Propagation> }>(
    outcome: Promise<T>,
  ): Promise<Omit<T, 'propagation'> & { propagation: HeldPropagation }>;
  /** Settles once every held propagation has; never rejects. */
  settled(): Promise<void>;
}

export function createConfirmations(): Confirmations {
  const pending: Promise<Propagation>[] = [];
  return {
    async awaitBeforeAnswer(outcome) {
      const answered = await outcome;
      pending.push(answered.propagation);
      return answered as unknown as Omit<typeof answered, 'propagation'> & { propagation: HeldPropagation };
    },
    async settled() {
      await Promise.all(pending);
    },
  };
}
