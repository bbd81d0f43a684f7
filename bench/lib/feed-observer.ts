// The change feed as an outside observer sees it: subscribed to keygate's own Redis channels
// (`<prefix>changes` and `<prefix>fleet`), it timestamps on one clock the moment each change event
// arrives and the moment the fleet's floor announcement covering a revision arrives (acks are
// aggregated: the floor rises when the last live proxy has applied a revision; docs/architecture.md,
// "Change-feed protocol", step 4). It also counts the announcements, the messages a control plane
// hears per change.
import { Redis } from 'ioredis';
import { REDIS_URL } from './keygate.ts';

export interface FeedObserver {
  /** revision → when its event arrived */
  readonly eventAt: Map<number, number>;
  /** revision → when the floor announcement covering it arrived (every live proxy had applied it) */
  readonly fleetAt: Map<number, number>;
  /** floor announcements heard so far */
  readonly announcements: () => number;
  /** where a mutation's time went: request → event, event → the fleet's floor reaching it, that → answer */
  split(revision: number, startedAt: number, answeredAt: number): { toEvent: number; eventToLastAck: number; lastAckToAnswer: number } | null;
  stop(): void;
}

export async function observeFeed(prefix: string): Promise<FeedObserver> {
  const eventAt = new Map<number, number>();
  const fleetAt = new Map<number, number>();
  let floorSeen = 0;
  let announcements = 0;
  const observer = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  observer.on('message', (channel: string, message: string) => {
    const now = performance.now();
    if (channel === `${prefix}changes`) {
      const { revision } = JSON.parse(message) as { revision: number };
      if (!eventAt.has(revision)) eventAt.set(revision, now);
      return;
    }
    announcements++;
    const { floor } = JSON.parse(message) as { floor: number };
    // Cumulative: the floor covers every revision up to it not covered yet.
    for (let r = Math.max(floorSeen + 1, floor - 10_000); r <= floor; r++) if (!fleetAt.has(r)) fleetAt.set(r, now);
    floorSeen = Math.max(floorSeen, floor);
  });
  try {
    await observer.subscribe(`${prefix}changes`, `${prefix}fleet`);
  } catch (error) {
    observer.disconnect();
    throw error;
  }
  return {
    eventAt,
    fleetAt,
    announcements: () => announcements,
    split(revision, startedAt, answeredAt) {
      const ev = eventAt.get(revision);
      const last = fleetAt.get(revision);
      if (ev === undefined || last === undefined) return null;
      return { toEvent: ev - startedAt, eventToLastAck: last - ev, lastAckToAnswer: answeredAt - last };
    },
    stop: () => observer.disconnect(),
  };
}
