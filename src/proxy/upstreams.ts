// A deployment's upstream as the proxy library takes it (target, keep-alive agent, Host, base path
// and query), made once per auth-table entry, and the keep-alive pools behind them, one per origin
// (upstream-agent.ts makes each, bound to the upstream policy). A pool whose origin no deployment
// uses any more is retired.
import type http from 'node:http';
import type { DeploymentEntry } from './auth-table.ts';
import { createPolicyAgent } from './upstream-agent.ts';
import type { UpstreamPolicy } from '../domain/upstream-policy.ts';

/** The library's target shape (http-proxy-3 does not export the type from its entry point). */
interface ProxyTargetDetailed {
  protocol: string;
  host: string;
  hostname: string;
  port: number;
}

/** A deployment's upstream as the proxy library takes it, computed once per table entry. */
export interface Upstream {
  /** passed to every proxy call as is: no options object built and no URL getter run per request */
  readonly options: { target: ProxyTargetDetailed; agent: http.Agent };
  /** the Host header the upstream gets: its own */
  readonly host: string;
  /** upstreamUrl's path without its trailing slash: '' or '/base' */
  readonly basePath: string;
  /** upstreamUrl's query without '?', usually '' */
  readonly baseQuery: string;
}

export interface Upstreams {
  /** the deployment's upstream; null when it has no usable upstream URL */
  upstreamOf(deployment: DeploymentEntry): Upstream | null;
  /** retires the keep-alive pool of an origin no deployment uses any more */
  release(origin: string): void;
  /** destroys every pooled upstream connection */
  close(): void;
}

export function createUpstreams(policy: UpstreamPolicy): Upstreams {
  const agents = new Map<string, http.Agent>();
  const upstreams = new WeakMap<DeploymentEntry, Upstream>();

  function upstreamOf(deployment: DeploymentEntry): Upstream | null {
    let upstream = upstreams.get(deployment);
    if (upstream === undefined && deployment.upstream !== null) {
      const url = deployment.upstream;
      let agent = agents.get(url.origin);
      if (!agent) agents.set(url.origin, (agent = createPolicyAgent(url.protocol, policy)));
      const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      upstream = {
        options: { target: { protocol: url.protocol, host: hostname, hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }, agent },
        host: url.host,
        basePath: url.pathname.replace(/\/+$/, ''),
        baseQuery: url.search.slice(1),
      };
      upstreams.set(deployment, upstream);
    }
    return upstream ?? null;
  }

  return {
    upstreamOf,

    release(origin) {
      const agent = agents.get(origin);
      if (!agent) return;
      agents.delete(origin);
      // Requests still running on it finish; their connections close instead of returning to the pool.
      agent.maxFreeSockets = 0;
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    },

    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}
