// Prometheus metrics of a control plane, served on /metrics beside /healthz and /readyz.
import { sendMetrics } from '../runtime/metrics-response.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Propagation } from '../feed/propagation.ts';
import type { CacheOutcome } from './response-cache.ts';

export interface ControlPlaneMetrics {
  registry: Registry;
  recordPropagation(p: Propagation, seconds: number): void;
  /** a query that may be answered from the response cache, and whether it was */
  recordResponseCache(outcome: CacheOutcome): void;
  /** health, readiness and metrics routes; true when the request was answered */
  routes(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createControlPlaneMetrics(sources: {
  appliedRevision: () => number;
  ready: () => boolean;
  subscribers: () => number;
  /** proxies holding a live lease (what `keygate status` shows) */
  liveProxies: () => Promise<number>;
}): ControlPlaneMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'keygate_control_plane_' });
  const outcomes = new Counter({
    name: 'keygate_propagation_total',
    help: 'State-changing mutations by propagation outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  const confirmed = outcomes.labels('confirmed');
  const unconfirmed = outcomes.labels('unconfirmed');
  const latency = new Histogram({
    name: 'keygate_mutation_propagation_seconds',
    help: 'Time from the start of a mutation to its confirmation (or timeout)',
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers,
  });
  new Gauge({
    name: 'keygate_control_plane_applied_revision',
    help: 'Revision of the last change this control plane has fanned out',
    registers,
    collect() {
      this.set(sources.appliedRevision());
    },
  });
  new Gauge({
    name: 'keygate_subscriptions',
    help: 'Live projectEvents subscriptions on this control plane',
    registers,
    collect() {
      this.set(sources.subscribers());
    },
  });

  new Gauge({
    name: 'keygate_live_proxies',
    help: 'Data-plane proxies holding a live lease',
    registers,
    async collect() {
      // Unknown while the feed cannot answer: no sample rather than a wrong zero.
      await sources.liveProxies().then(
        (n) => this.set(n),
        () => this.reset(),
      );
    },
  });

  const cacheAnswers = new Counter({
    name: 'keygate_response_cache_total',
    help: 'Queries that may be answered from the response cache, by outcome: hit or miss',
    labelNames: ['outcome'] as const,
    registers,
  });
  const cacheOutcomes = { hit: cacheAnswers.labels('hit'), miss: cacheAnswers.labels('miss') };

  return {
    registry,
    recordPropagation(p, seconds) {
      (p.confirmed ? confirmed : unconfirmed).inc();
      latency.observe(seconds);
    },
    recordResponseCache(outcome) {
      cacheOutcomes[outcome].inc();
    },
    routes(req, res) {
      const path = req.url?.split('?')[0];
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return true;
      }
      if (path === '/readyz') {
        const ready = sources.ready();
        res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
        return true;
      }
      if (path === '/metrics') {
        sendMetrics(res, registry, () => {});
        return true;
      }
      return false;
    },
  };
}
