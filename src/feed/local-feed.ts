// The in-process feed for one process without Redis: publishing calls the subscribers directly,
// so the local proxy has applied a change before the mutation that made it returns.
import type { ChangeEvent } from './events.ts';
import type { Feed, FeedHandlers, FleetProgress } from './feed.ts';
import type { UsageBatch } from '../usage/usage-update.ts';

export function createLocalFeed(now: () => number = Date.now): Feed {
  const subscribers = new Set<FeedHandlers>();
  const fleetListeners = new Set<(floor: number, live: number) => void>();
  const leases = new Map<string, { applied: number; expiresAt: number }>();
  const usageListeners = new Set<(batch: UsageBatch) => void>();
  let announced = -2;

  const live = () => {
    for (const [id, lease] of leases) if (lease.expiresAt <= now()) leases.delete(id);
    return leases;
  };
  // The floor of the live fleet, announced when it rose or the fleet emptied (as on Redis).
  const announce = () => {
    const fleet = live();
    let floor = fleet.size === 0 ? -1 : Infinity;
    for (const lease of fleet.values()) floor = Math.min(floor, lease.applied);
    if (floor === announced) return;
    const rose = fleet.size > 0 ? floor > announced : announced >= 0;
    announced = floor;
    if (rose) for (const l of [...fleetListeners]) l(floor, fleet.size);
  };

  return {
    kind: 'local',
    async publish(event: ChangeEvent) {
      for (const s of [...subscribers]) s.onEvent(event);
    },
    async subscribe(handlers) {
      subscribers.add(handlers);
      return async () => {
        subscribers.delete(handlers);
      };
    },
    async renewLease(proxyId, applied, ttlMs) {
      const previous = leases.get(proxyId)?.applied ?? -1;
      leases.set(proxyId, { applied: Math.max(previous, applied), expiresAt: now() + ttlMs });
      announce();
    },
    async dropLease(proxyId) {
      leases.delete(proxyId);
      announce();
    },
    async ack(proxyId, revision, leaseMs = 0) {
      const lease = leases.get(proxyId);
      if (lease && revision > lease.applied) lease.applied = revision;
      if (lease && leaseMs > 0) lease.expiresAt = now() + leaseMs;
      announce();
      return lease !== undefined && leaseMs > 0;
    },
    async liveProxies() {
      return new Map([...live()].map(([id, lease]) => [id, lease.applied]));
    },
    async fleetProgress(revision, listLagging): Promise<FleetProgress> {
      const fleet = [...live()];
      const lagging = fleet.filter(([, lease]) => lease.applied < revision).map(([id]) => id);
      return { live: fleet.length, applied: fleet.length - lagging.length, legacyLagging: 0, lagging: listLagging ? lagging : [] };
    },
    onFleetApplied(listener) {
      fleetListeners.add(listener);
      return () => fleetListeners.delete(listener);
    },
    async publishUsage(batch) {
      for (const l of [...usageListeners]) l(batch);
    },
    onUsage(listener) {
      usageListeners.add(listener);
      return () => usageListeners.delete(listener);
    },
    async close() {
      usageListeners.clear();
      subscribers.clear();
      fleetListeners.clear();
      leases.clear();
    },
  };
}
