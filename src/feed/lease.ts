// A proxy's side of leases and acks (docs/architecture.md, "Change-feed protocol", step 4), over any Feed:
// it holds a lease renewed every third of its TTL with the applied revision, acks applied
// revisions cumulatively, and deletes the lease on a clean stop.
//
// Acks: on the Redis feed at most one ack is in flight and the next one carries the latest
// applied revision. Each ack also renews the lease, so while changes flow the renewal timer has
// nothing to do (one Redis call per change per proxy, not one more every third of the TTL). On the in-process feed every apply is acked at once, synchronously: its
// publish() calls the consumer, which applies, and this acks before publish() returns, so the
// mutation that published then finds the proxy's lease at its revision.
import type { Logger } from 'pino';
import type { AppliedListener } from './follower.ts';
import type { Feed } from './feed.ts';

/** What the proxy sync needs of a FeedConsumer. */
export interface SyncedConsumer {
  readonly applied: number;
  readonly ready: boolean;
  onApplied(listener: AppliedListener): () => void;
  markCurrent(): boolean;
}

export interface ProxySyncOptions {
  feed: Feed;
  consumer: SyncedConsumer;
  proxyId: string;
  /** lease TTL (KEYGATE_PROXY_LEASE_MS); renewed every third of it */
  leaseMs: number;
  log: Logger;
}

export interface ProxySync {
  /** the last renewal succeeded */
  readonly leaseHeld: boolean;
  /** the highest revision acked successfully */
  readonly acked: number;
  /** Renews the lease now (also done every leaseMs / 3); never rejects. */
  renew(): Promise<void>;
  /** Stops renewing and acking, and deletes the lease. */
  stop(): Promise<void>;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Starts holding the proxy's lease and acking. Call it once the consumer is ready (start()
 * resolved): a proxy that is not ready serves nothing, so it takes no lease until it is. The
 * first renewal has been attempted when this resolves.
 */
export async function startProxySync(options: ProxySyncOptions): Promise<ProxySync> {
  const { feed, consumer, proxyId, leaseMs, log } = options;
  const coalesce = feed.kind !== 'local';

  let stopped = false;
  let leaseHeld = false;
  let renewFailing = false;
  let renewing: Promise<void> | null = null;
  let acked = -1;
  let ackFailing = false;
  let ackInFlight: Promise<void> | null = null;
  let ackWanted = false;
  /** when the lease was last renewed, by a renewal or an ack (performance.now()) */
  let renewedAt = -Infinity;

  /** The lease was renewed: it is held, and the feed worked just now. */
  function leaseRenewed(): void {
    renewedAt = performance.now();
    leaseHeld = true;
    consumer.markCurrent();
  }

  function ackResult(revision: number) {
    return {
      ok: (renewed: boolean | void) => {
        if (revision > acked) acked = revision;
        if (ackFailing) log.info({ proxyId }, 'acks are delivered again');
        ackFailing = false;
        if (renewed === true && !stopped) leaseRenewed();
      },
      failed: (error: unknown) => {
        if (!ackFailing) log.warn({ proxyId, revision, err: errorMessage(error) }, 'ack failed; the lease renewal carries the applied revision');
        ackFailing = true;
      },
    };
  }

  function sendAck(): void {
    if (stopped || !consumer.ready) return;
    const revision = consumer.applied;
    if (revision <= acked) return;
    const result = ackResult(revision);
    if (!coalesce) {
      // In-process: ack() does its work synchronously within this call.
      feed.ack(proxyId, revision, leaseMs).then(result.ok, result.failed);
      acked = Math.max(acked, revision);
      return;
    }
    if (ackInFlight) {
      ackWanted = true;
      return;
    }
    ackInFlight = feed
      .ack(proxyId, revision, leaseMs)
      .then(result.ok, result.failed)
      .finally(() => {
        ackInFlight = null;
        if (ackWanted) {
          ackWanted = false;
          sendAck();
        }
      });
  }

  function renew(): Promise<void> {
    if (stopped || !consumer.ready) return Promise.resolve();
    if (renewing) return renewing;
    const applied = consumer.applied;
    renewing = feed
      .renewLease(proxyId, applied, leaseMs)
      .then(
        () => {
          if (stopped) return;
          if (renewFailing) log.info({ proxyId, applied }, 'proxy lease renewed again');
          renewFailing = false;
          leaseRenewed();
          // An ack lost while Redis was away: send the latest one again.
          if (consumer.applied > acked) sendAck();
        },
        (error: unknown) => {
          if (!renewFailing) log.warn({ proxyId, err: errorMessage(error) }, 'proxy lease renewal failed');
          renewFailing = true;
          leaseHeld = false;
        },
      )
      .finally(() => {
        renewing = null;
      });
    return renewing;
  }

  const stopListening = consumer.onApplied(() => sendAck());
  await renew();
  const every = Math.max(1, Math.floor(leaseMs / 3));
  // An ack that renewed the lease within the last half period stands for this renewal: renewals
  // stay at most half the TTL apart.
  const timer = setInterval(() => {
    if (performance.now() - renewedAt >= every / 2) void renew();
  }, every);
  timer.unref();

  return {
    get leaseHeld() {
      return leaseHeld;
    },
    get acked() {
      return acked;
    },
    renew,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      stopListening();
      await Promise.allSettled([renewing, ackInFlight]);
      leaseHeld = false;
      try {
        await feed.dropLease(proxyId);
      } catch (error) {
        log.warn({ proxyId, err: errorMessage(error) }, 'could not delete the proxy lease; it expires by itself');
      }
    },
  };
}
