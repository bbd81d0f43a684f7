// Confirmation (docs: change-feed protocol, step 5): after publishing, wait until every proxy
// whose lease is live has acked the revision, up to the propagation timeout; and the
// confirmations one answer waits for, so a mutation answers only once its change holds.
import type { Feed } from './feed.ts';

export interface Propagation {
  revision: number;
  confirmed: boolean;
  appliedBy: number;
  expected: number;
}

/** What the waiting saw beyond the answer: which live proxies had not acked (for the operator's log). */
export interface PropagationOutcome extends Propagation {
  /** ids of the proxies whose lease was live but which did not ack in time */
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
 * publish still under way is awaited alongside the read of the leases, saving a round trip.
 */
export async function waitForPropagation(
  feed: Feed,
  revision: number,
  options: { timeoutMs: number; published: boolean | Promise<boolean> },
): Promise<PropagationOutcome> {
  const started = Date.now();
  const pending = new Set<string>();
  const ackedEarly = new Set<string>();
  let wake: () => void = () => {};
  // Listen before reading the leases, so an ack that lands in between is not missed.
  const stopListening = feed.onAck((proxyId, acked) => {
    if (acked < revision) return;
    ackedEarly.add(proxyId);
    if (pending.delete(proxyId) && pending.size === 0) wake();
  });
  try {
    let live: Map<string, number>;
    let published: boolean;
    try {
      [live, published] = await Promise.all([withTimeout(feed.liveProxies(), options.timeoutMs), options.published]);
    } catch {
      return { revision, confirmed: false, appliedBy: 0, expected: 0, lagging: [] };
    }
    for (const [id, applied] of live) if (applied < revision && !ackedEarly.has(id)) pending.add(id);
    const expected = live.size;
    if (published && pending.size > 0) {
      const remaining = Math.max(0, options.timeoutMs - (Date.now() - started));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const appliedBy = expected - pending.size;
    return { revision, confirmed: published && pending.size === 0, appliedBy, expected, lagging: [...pending] };
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
