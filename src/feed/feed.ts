// The transport of the change feed: publishing events, subscribing to them, proxy leases and acks.
// Two implementations: Redis (replicas) and in-process (one process, no Redis).
import type { ChangeEvent } from './events.ts';
import type { UsageBatch } from '../usage/usage-update.ts';

export type Unsubscribe = () => Promise<void>;

export interface FeedHandlers {
  onEvent(event: ChangeEvent): void;
  /** the transport lost messages it may have missed (a reconnect): catch up from the log */
  onReconnect?(): void;
  /** the subscription is down: messages may be missed until onReconnect (optional to implement) */
  onDisconnect?(): void;
}

/** The live proxies against one revision (docs/architecture.md, "Change-feed protocol", step 5). */
export interface FleetProgress {
  live: number;
  /** live proxies at or above the revision */
  applied: number;
  /** lagging proxies whose acks are not announced (leases from before aggregated acks): no announcement covers them */
  legacyLagging: number;
  /** ids of the lagging proxies, when asked for */
  lagging: string[];
}

export interface Feed {
  readonly kind: 'redis' | 'local';
  publish(event: ChangeEvent): Promise<void>;
  /** Resolves once the subscription is active: nothing published afterwards is missed. */
  subscribe(handlers: FeedHandlers): Promise<Unsubscribe>;
  /** Creates or renews a proxy's lease, recording its applied revision. */
  renewLease(proxyId: string, applied: number, ttlMs: number): Promise<void>;
  dropLease(proxyId: string): Promise<void>;
  /**
   * Cumulative: the proxy has applied every revision up to `revision`. With `leaseMs`, the ack also
   * renews the proxy's lease for that long if it holds one, and resolves true when it did.
   */
  ack(proxyId: string, revision: number, leaseMs?: number): Promise<boolean | void>;
  /** Live proxies and the revision each last reported (for metrics and tests: it lists every one). */
  liveProxies(): Promise<Map<string, number>>;
  /** Where the live fleet stands against `revision`, in one round trip; `listLagging` names the lagging. */
  fleetProgress(revision: number, listLagging: boolean): Promise<FleetProgress>;
  /**
   * Hears the fleet's floor rise: every one of the `live` proxies has applied `floor` (an empty
   * fleet is announced as floor -1, live 0). Acks are aggregated: one announcement per rise,
   * never one per proxy.
   */
  onFleetApplied(listener: (floor: number, live: number) => void): () => void;
  /** A proxy's written usage flush, for every control plane's usageUpdates (fire and forget: no catch-up). */
  publishUsage(batch: UsageBatch): Promise<void>;
  onUsage(listener: (batch: UsageBatch) => void): () => void;
  close(): Promise<void>;
}
