// The forwarder on its own, where a test needs to control what createProxyServer hides: a
// connection that never gets established (the connect timeout).
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { AuthTable } from '../../src/proxy/auth-table.ts';
import type { ForwardHooks } from '../../src/proxy/flight.ts';
import { createForwarder } from '../../src/proxy/forward.ts';
import { createUpstreamPolicy, type UpstreamPolicy } from '../../src/domain/upstream-policy.ts';
import { P1, closeServer, dispose, listen, request } from './helpers.ts';

function deploymentAt(upstreamUrl: string) {
  const table = new AuthTable();
  table.load({
    revision: 1,
    apiKeys: [],
    deployments: [{ id: 'd', projectId: P1, projectSlug: 'acme', name: 'chat', upstreamUrl, authEnabled: false, apiKeyIds: [] }],
  });
  return table.findDeployment('acme', 'chat')!;
}

async function serve(policy: UpstreamPolicy, timeouts: { connectTimeoutMs: number; headersTimeoutMs: number; idleTimeoutMs: number }, upstreamUrl: string) {
  const events: string[] = [];
  const hooks: ForwardHooks = {
    responded: (_f, status) => {
      events.push(`responded ${status}`);
      return null;
    },
    failed: (_f, code) => events.push(`failed ${code}`),
    clientClosed: () => events.push('client closed'),
  };
  const forwarder = createForwarder({ timeouts, policy, hooks });
  const deployment = deploymentAt(upstreamUrl);
  const server = http.createServer((req, res) => forwarder.web(req, res, deployment, req.url ?? '/'));
  const port = await listen(server);
  dispose(async () => {
    forwarder.close();
    await closeServer(server);
  });
  return { port, events };
}

describe('forwarder', () => {
  it('504 upstream_timeout when the connection is not established within connectTimeoutMs', async () => {
    const real = createUpstreamPolicy({ allow: [], deny: [] });
    // A name whose lookup never answers keeps the socket connecting forever.
    const stuck: UpstreamPolicy = { ...real, lookup: () => {} };
    const { port, events } = await serve(stuck, { connectTimeoutMs: 150, headersTimeoutMs: 10_000, idleTimeoutMs: 10_000 }, 'http://stuck.invalid:80');
    const started = performance.now();
    const res = await request(port, '/v1/models');
    expect(res.status).toBe(504);
    expect(res.json().error.code).toBe('upstream_timeout');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(events).toEqual(['failed upstream_timeout']);
  });

  it('reports a response through its hooks', async () => {
    const upstream = http.createServer((_req, res) => res.end('ok'));
    const upstreamPort = await listen(upstream);
    dispose(() => closeServer(upstream));
    const policy = createUpstreamPolicy({ allow: [], deny: [] });
    const { port, events } = await serve(policy, { connectTimeoutMs: 1000, headersTimeoutMs: 1000, idleTimeoutMs: 1000 }, `http://127.0.0.1:${upstreamPort}`);
    expect((await request(port, '/')).body).toBe('ok');
    expect(events).toEqual(['responded 200']);
  });

  it('502 for a deployment whose upstream URL does not parse', async () => {
    const policy = createUpstreamPolicy({ allow: [], deny: [] });
    const { port, events } = await serve(policy, { connectTimeoutMs: 1000, headersTimeoutMs: 1000, idleTimeoutMs: 1000 }, 'not a url');
    expect((await request(port, '/')).status).toBe(502);
    expect(events).toEqual(['failed upstream_unavailable']);
  });
});
