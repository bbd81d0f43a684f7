// The change feed as an outside observer sees it: subscribed to keygate's own Redis channels
// (`<prefix>changes` and `<prefix>acks`), it timestamps on one clock the moment each change event
// arrives and the moment each proxy's ack covering a revision arrives. Acks are cumulative: an ack
// of r covers every revision up to r not covered yet.
import { Redis } from 'ioredis';
import { REDIS_URL } from './keygate.ts';

export interface FeedObserver {
  /** revision → when its event arrived */
  readonly eventAt: Map<number, number>;
  /** proxy id → revision → when an ack covering it arrived */
  readonly ackAt: Map<string, Map<number, number>>;
  /** where a mutation's time went: request → event, event → the last of `proxyIds`' acks, that ack → answer */
  split(revision: number, proxyIds: readonly string[], startedAt: number, answeredAt: number): { toEvent: number; eventToLastAck: number; lastAckToAnswer: number } | null;
  stop(): void;
}

export async function observeFeed(prefix: string): Promise<FeedObserver> {
  const eventAt = new Map<number, number>();
  const ackAt = new Map<string, Map<number, number>>();
  const ackedUpTo = new Map<string, number>();
  const observer = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  observer.on('message', (channel: string, message: string) => {
    const now = performance.now();
    const value = JSON.parse(message) as { revision: number; proxyId?: string };
    if (channel === `${prefix}changes`) {
      if (!eventAt.has(value.revision)) eventAt.set(value.revision, now);
      return;
    }
    const id = value.proxyId!;
    let acks = ackAt.get(id);
    if (!acks) ackAt.set(id, (acks = new Map()));
    for (let r = (ackedUpTo.get(id) ?? value.revision - 1) + 1; r <= value.revision; r++) acks.set(r, now);
    ackedUpTo.set(id, Math.max(ackedUpTo.get(id) ?? 0, value.revision));
  });
  try {
    await observer.subscribe(`${prefix}changes`, `${prefix}acks`);
  } catch (error) {
    observer.disconnect();
    throw error;
  }
  return {
    eventAt,
    ackAt,
    split(revision, proxyIds, startedAt, answeredAt) {
      const ev = eventAt.get(revision);
      const acks = proxyIds.map((p) => ackAt.get(p)?.get(revision));
      if (ev === undefined || acks.some((a) => a === undefined)) return null;
      const last = Math.max(...(acks as number[]));
      return { toEvent: ev - startedAt, eventToLastAck: last - ev, lastAckToAnswer: answeredAt - last };
    },
    stop: () => observer.disconnect(),
  };
}
