// The in-process feed for one process without Redis: publishing calls the subscribers directly,
// so the local proxy has applied a change before the mutation that made it returns.
import type { ChangeEvent } from './events.ts';
import type { Feed, FeedHandlers } from './feed.ts';
import type { UsageBatch } from '../usage/usage-update.ts';

export function createLocalFeed(now: () => number = Date.now): Feed {
  const subscribers = new Set<FeedHandlers>();
  const ackListeners = new Set<(proxyId: string, revision: number) => void>();
  const leases = new Map<string, { applied: number; expiresAt: number }>();
  const usageListeners = new Set<(batch: UsageBatch) => void>();

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
      leases.set(proxyId, { applied, expiresAt: now() + ttlMs });
    },
    async dropLease(proxyId) {
      leases.delete(proxyId);
    },
    async ack(proxyId, revision) {
      const lease = leases.get(proxyId);
      if (lease && revision > lease.applied) lease.applied = revision;
      for (const l of [...ackListeners]) l(proxyId, revision);
    },
    async liveProxies() {
      const live = new Map<string, number>();
      for (const [id, lease] of leases) {
        if (lease.expiresAt > now()) live.set(id, lease.applied);
        else leases.delete(id);
      }
      return live;
    },
    onAck(listener) {
      ackListeners.add(listener);
      return () => ackListeners.delete(listener);
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
      ackListeners.clear();
      leases.clear();
    },
  };
}
