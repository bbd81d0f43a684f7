// The proxy's Prometheus metrics, registered on the registry it is given (never the global one,
// so several servers in one process or one test do not collide). Labelled children are cached
// per deployment, so a request increments a counter without building a label object.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProxyErrorCode } from './answers.ts';

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

export interface ProxyMetrics {
  /** cached per deployment label; forget() drops it */
  deployment(label: string): DeploymentMetrics;
  rejected(code: ProxyErrorCode): void;
  /** how many revisions the proxy is behind the head it last saw; set by whoever polls the head */
  setFeedLag(revisions: number): void;
  forget(label: string): void;
}

export function createProxyMetrics(
  registry: Registry,
  sources: { revision: () => number; status: () => string },
): ProxyMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'keygate_proxy_requests_total',
    help: 'Requests routed to a deployment, by outcome',
    labelNames: ['deployment', 'outcome'] as const,
    registers,
  });
  const rejections = new Counter({
    name: 'keygate_proxy_rejections_total',
    help: "Requests the proxy answered itself, by error code",
    labelNames: ['code'] as const,
    registers,
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

  const rejectionChildren = new Map<ProxyErrorCode, { inc(): void }>();
  const cache = new Map<string, DeploymentMetrics>();

  return {
    deployment(label) {
      let m = cache.get(label);
      if (!m) {
        const children = {} as Record<Outcome, { inc(): void }>;
        for (const outcome of OUTCOMES) children[outcome] = requests.labels(label, outcome);
        m = { requests: children, upstreamSeconds: upstreamSeconds.labels(label) };
        cache.set(label, m);
      }
      return m;
    },
    rejected(code) {
      let child = rejectionChildren.get(code);
      if (!child) rejectionChildren.set(code, (child = rejections.labels(code)));
      child.inc();
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
