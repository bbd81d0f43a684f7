// The proxy's Prometheus metrics, registered on the registry it is given (never the global one,
// so several servers in one process or one test do not collide). Labelled children are cached
// per deployment, so a request increments a counter without building a label object; request
// counts are plain numbers that the counter takes in when it is collected (a prom-client inc
// hashes its labels on every call).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProxyErrorCode } from './answers.ts';
import { REFUSAL_REASONS, type RefusalReason } from './authorize.ts';
import { CUT_REASONS, type CutReason } from './in-flight.ts';

export const OUTCOMES = [
  'forwarded',
  'rejected',
  'upstream_unavailable',
  'upstream_timeout',
  'client_closed',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface DeploymentMetrics {
  readonly requests: Readonly<Record<Outcome, { inc(): void }>>;
  readonly upstreamSeconds: { observe(seconds: number): void };
}

/** A counter child kept as a plain number, handed to its prom-client counter when that is collected. */
class Count {
  private counted = 0;
  private reported = 0;
  inc(): void {
    this.counted++;
  }
  /** Gives the counter what it has not been given yet. A series appears with its first count, as
   *  it would with prom-client's own inc(). */
  report<L extends string>(counter: Counter<L>, labels: Partial<Record<L, string>>): void {
    if (this.counted > this.reported) counter.inc(labels, this.counted - this.reported);
    this.reported = this.counted;
  }
}

interface CachedDeployment {
  readonly requests: Record<Outcome, Count>;
  readonly upstreamSeconds: { observe(seconds: number): void };
}

export interface ProxyMetrics {
  /** cached per deployment label; forget() drops it */
  deployment(label: string): DeploymentMetrics;
  rejected(code: ProxyErrorCode): void;
  /** a refused key (401, later 429), by reason (docs/operations.md, "Metrics") */
  refused(reason: RefusalReason): void;
  /** requests in flight ended because their key lost access (in-flight.ts), by reason */
  cut(reason: CutReason, count: number): void;
  /** a client connection beyond the cap, answered 503 or dropped */
  connectionRefused(): void;
  /** how many revisions the proxy is behind the head it last saw; set by whoever polls the head */
  setFeedLag(revisions: number): void;
  forget(label: string): void;
}

export function createProxyMetrics(
  registry: Registry,
  sources: { revision: () => number; status: () => string; connections: () => number },
): ProxyMetrics {
  const registers = [registry];
  const cache = new Map<string, CachedDeployment>();
  const rejectionCounts = new Map<ProxyErrorCode, Count>();
  const requests = new Counter({
    name: 'keygate_proxy_requests_total',
    help: 'Requests routed to a deployment, by outcome',
    labelNames: ['deployment', 'outcome'] as const,
    registers,
    collect() {
      for (const [deployment, m] of cache) for (const outcome of OUTCOMES) m.requests[outcome].report(this, { deployment, outcome });
    },
  });
  new Counter({
    name: 'keygate_proxy_rejections_total',
    help: "Requests the proxy answered itself, by error code",
    labelNames: ['code'] as const,
    registers,
    collect() {
      for (const [code, count] of rejectionCounts) count.report(this, { code });
    },
  });
  // Every reason is a series from the start (at 0), so dashboards and alerts see the whole set.
  const refusalCounts = new Map<RefusalReason, Count>(REFUSAL_REASONS.map((reason) => [reason, new Count()]));
  new Counter({
    name: 'keygate_proxy_refusals_total',
    help: 'Requests refused for their key (the client gets one invalid_api_key body), by reason',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      for (const [reason, count] of refusalCounts) {
        count.report(this, { reason });
        this.inc({ reason }, 0);
      }
    },
  });
  const cutCounts = new Map<CutReason, number>(CUT_REASONS.map((reason) => [reason, 0]));
  new Counter({
    name: 'keygate_proxy_requests_cut_total',
    help: 'Requests in flight ended because their key stopped opening the deployment, by reason',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      this.reset();
      for (const [reason, count] of cutCounts) this.inc({ reason }, count);
    },
  });
  new Gauge({
    name: 'keygate_proxy_open_connections',
    help: 'Client connections open on the proxy port',
    registers,
    collect() {
      this.set(sources.connections());
    },
  });
  const connectionsRefused = new Count();
  new Counter({
    name: 'keygate_proxy_connections_refused_total',
    help: 'Client connections refused because the proxy had KEYGATE_PROXY_MAX_CONNECTIONS open',
    registers,
    collect() {
      connectionsRefused.report(this, {});
    },
  });
  const upstreamSeconds = new Histogram({
    name: 'keygate_proxy_upstream_response_seconds',
    help: 'Time from forwarding a request to the upstream response headers',
    labelNames: ['deployment'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers,
  });
  new Gauge({
    name: 'keygate_proxy_applied_revision',
    help: 'Revision of the last change applied to the auth table',
    registers,
    collect() {
      this.set(sources.revision());
    },
  });
  const feedLag = new Gauge({
    name: 'keygate_proxy_feed_lag_revisions',
    help: 'Revisions between the head last seen and the applied revision',
    registers,
  });
  new Gauge({
    name: 'keygate_proxy_feed_unavailable',
    help: '1 while the proxy cannot prove it is current and answers 503 feed_unavailable',
    registers,
    collect() {
      this.set(sources.status() === 'feed_unavailable' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'keygate_proxy_ready',
    help: '1 while the proxy reports ready',
    registers,
    collect() {
      this.set(sources.status() === 'ready' ? 1 : 0);
    },
  });

  return {
    deployment(label) {
      let m = cache.get(label);
      if (!m) {
        const counts = {} as Record<Outcome, Count>;
        for (const outcome of OUTCOMES) counts[outcome] = new Count();
        m = { requests: counts, upstreamSeconds: upstreamSeconds.labels(label) };
        cache.set(label, m);
      }
      return m;
    },
    rejected(code) {
      let count = rejectionCounts.get(code);
      if (!count) rejectionCounts.set(code, (count = new Count()));
      count.inc();
    },
    refused(reason) {
      refusalCounts.get(reason)!.inc();
    },
    cut(reason, count) {
      cutCounts.set(reason, cutCounts.get(reason)! + count);
    },
    connectionRefused() {
      connectionsRefused.inc();
    },
    setFeedLag(revisions) {
      feedLag.set(revisions);
    },
    forget(label) {
      if (!cache.delete(label)) return;
      for (const outcome of OUTCOMES) requests.remove(label, outcome);
      upstreamSeconds.remove(label);
    },
  };
}
