// The keep-alive pools to upstreams, one per origin, whose every new connection obeys the upstream
// policy (DESIGN.md "Upstream policy"): the policy runs on each connect, not only when a
// deployment was saved, since what a name resolves to can change.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { UpstreamPolicy } from '../domain/upstream-policy.ts';

/** A keep-alive agent whose connections obey the upstream policy: names through its lookup, and
 *  address literals (which never reach a lookup) checked before connecting. */
export function createPolicyAgent(protocol: string, policy: UpstreamPolicy): http.Agent {
  const options = { keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 256, scheduling: 'lifo' as const, lookup: policy.lookup };
  const agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  const connect = agent.createConnection.bind(agent) as (o: object, cb: (err: Error | null, s?: Socket) => void) => Socket | undefined;
  (agent as unknown as { createConnection: typeof connect }).createConnection = (o, cb) => {
    const host = (o as { host?: string }).host ?? '';
    if (policy.isRefused(host)) {
      cb(policy.refusal(host, host));
      return undefined;
    }
    return connect(o, cb);
  };
  return agent;
}
