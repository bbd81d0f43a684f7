// Through createProxyServer: readiness and feed states, the /-/ endpoints, metrics, draining on
// stop, and WebSocket upgrades behind the same key check.
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ANSWERS } from '../../src/proxy/answers.ts';
import { dispose, listen, closeServer, makeWorld, request, sleep, startProxy, startUpstream, until } from './helpers.ts';

const bodyOf = (code: keyof typeof ANSWERS) => JSON.parse(ANSWERS[code].body.toString());

describe('readiness and feed state', () => {
  it('healthz always 200; readyz follows status(); deployment requests get 503 while not ready', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: upstream.url });
    const proxy = await startProxy(world.snapshot);
    const headers = { 'x-api-key': world.linked.secret };

    expect((await request(proxy.port, '/-/readyz')).status).toBe(200);
    expect((await request(proxy.port, '/acme/chat/v1/models', { headers })).status).toBe(200);

    for (const state of ['not_ready', 'feed_unavailable'] as const) {
      proxy.setStatus(state);
      const health = await request(proxy.port, '/-/healthz');
      expect(health.status).toBe(200);
      const ready = await request(proxy.port, '/-/readyz');
      expect(ready.status).toBe(503);
      expect(ready.json().status).toBe(state);
      for (const [path, host] of [
        ['/acme/chat/v1/models', undefined],
        ['/v1/models', 'model-chat.acme.keygate.test'],
      ] as const) {
        const res = await request(proxy.port, path, { headers, host });
        expect(res.status).toBe(503);
        expect(res.json()).toEqual(bodyOf(state));
      }
    }
    expect(upstream.received).toHaveLength(1);
    proxy.setStatus('ready');
    expect((await request(proxy.port, '/acme/chat/v1/models', { headers })).status).toBe(200);
  });

  it('/-/ endpoints are not served on a deployment host: they are forwarded', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    const res = await request(proxy.port, '/-/healthz', { host: 'model-open.acme.keygate.test' });
    expect(res.json()).toEqual({ ok: true, path: '/-/healthz' });
  });

  it('exports metrics on its own registry, on the status listener only: requests by outcome, rejections, latency, revision', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: upstream.url });
    const proxy = await startProxy(world.snapshot);
    await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': world.linked.secret } });
    await request(proxy.port, '/acme/chat/v1/models');
    await request(proxy.port, '/acme/nope/v1/models');
    // Finding 8 of issue 15: the public port listed every project and deployment with traffic.
    const publicMetrics = await request(proxy.port, '/-/metrics');
    expect(publicMetrics.status).toBe(404);
    expect(publicMetrics.json()).toEqual(bodyOf('deployment_not_found'));
    expect((await request(proxy.port, '/metrics')).status).toBe(404);
    const res = await request(proxy.statusPort, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(text).toContain('keygate_proxy_requests_total{deployment="acme/chat",outcome="forwarded"} 1');
    expect(text).toContain('keygate_proxy_requests_total{deployment="acme/chat",outcome="rejected"} 1');
    expect(text).toContain('keygate_proxy_rejections_total{code="missing_api_key"} 1');
    // /acme/nope and the public /-/metrics and /metrics
    expect(text).toContain('keygate_proxy_rejections_total{code="deployment_not_found"} 3');
    expect(text).toContain('keygate_proxy_refusals_total{reason="missing"} 1');
    expect(text).toContain('keygate_proxy_refusals_total{reason="rate_limited"} 0');
    expect(text).toContain('keygate_proxy_upstream_response_seconds_count{deployment="acme/chat"} 1');
    expect(text).toContain('keygate_proxy_applied_revision 10');
    expect(text).toContain('keygate_proxy_feed_unavailable 0');
    expect(text).not.toContain(world.linked.secret);
    expect(text).not.toContain(world.linked.hash);
  });

  it('drops the metrics of a deleted deployment', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    await request(proxy.port, '/acme/open/x');
    expect((await request(proxy.statusPort, '/metrics')).body).toContain('deployment="acme/open"');
    proxy.table.applyChange({ revision: 11, projectId: 'p', type: 'DEPLOYMENT_DELETED', actor: null, at: '', payload: { deploymentId: 'd-open', deleted: true } });
    const after = (await request(proxy.statusPort, '/metrics')).body;
    expect(after).not.toContain('deployment="acme/open"');
    expect(after).toContain('keygate_proxy_applied_revision 11');
  });
});

describe('table changes', () => {
  it('a new upstream URL takes effect on the next request and the old pool is closed', async () => {
    const a = await startUpstream();
    const b = await startUpstream();
    const closedAtA: string[] = [];
    a.server.on('connection', (socket) => socket.on('close', () => closedAtA.push('closed')));
    const world = makeWorld({ chat: a.url, open: a.url, other: b.url });
    const proxy = await startProxy(world.snapshot);
    const headers = { 'x-api-key': world.linked.secret };
    await request(proxy.port, '/acme/chat/v1/models', { headers });
    await request(proxy.port, '/acme/open/v1/models');
    expect(a.received).toHaveLength(2);

    const chat = world.snapshot.deployments[0]!;
    const open = world.snapshot.deployments[1]!;
    proxy.table.applyChange({ revision: 11, projectId: chat.projectId, type: 'DEPLOYMENT_UPDATED', actor: null, at: '', payload: { deploymentId: chat.id, deployment: { ...chat, upstreamUrl: b.url } } });
    await sleep(50);
    expect(closedAtA).toHaveLength(0); // acme/open still forwards to a
    proxy.table.applyChange({ revision: 12, projectId: open.projectId, type: 'DEPLOYMENT_UPDATED', actor: null, at: '', payload: { deploymentId: open.id, deployment: { ...open, upstreamUrl: b.url } } });
    await until(() => closedAtA.length === 1);

    await request(proxy.port, '/acme/chat/v1/models', { headers });
    await request(proxy.port, '/acme/open/v1/models');
    expect(a.received).toHaveLength(2);
    expect(b.received).toHaveLength(2);
  });
});

describe('stop', () => {
  it('drains: in-flight requests finish, new connections are refused', async () => {
    const upstream = await startUpstream((_req, res) => setTimeout(() => res.end('late'), 300));
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    const inFlight = request(proxy.port, '/acme/open/slow');
    await until(() => upstream.received.length === 1);
    const stopped = proxy.stop(5000);
    await sleep(20);
    await expect(request(proxy.port, '/-/readyz')).rejects.toThrow(/ECONNREFUSED/);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body).toBe('late');
    await stopped;
  });

  it('cuts what is still running once the drain period is over', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const t = setInterval(() => res.write('data: x\n\n'), 20);
      res.on('close', () => clearInterval(t));
    });
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    const cut = new Promise<boolean>((resolve) => {
      http.get({ host: '127.0.0.1', port: proxy.port, path: '/acme/open/sse', agent: false }, (res) => {
        res.resume();
        res.on('error', () => {});
        res.on('close', () => resolve(!res.complete));
      });
    });
    await until(() => upstream.received.length === 1);
    const started = performance.now();
    await proxy.stop(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(await cut).toBe(true);
    await until(() => upstream.aborted.length === 1);
  });

  it('a request arriving on a busy connection during the drain gets 503 and Connection: close', async () => {
    const upstream = await startUpstream((_req, res) => setTimeout(() => res.end('late'), 200));
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    const socket = net.connect(proxy.port, '127.0.0.1');
    dispose(async () => void socket.destroy());
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    const ended = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET /acme/open/slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => upstream.received.length === 1);
    const stopped = proxy.stop(2000);
    socket.write('GET /-/readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /acme/open/x HTTP/1.1\r\nHost: x\r\n\r\n');
    await ended;
    await stopped;
    const responses = text.split(/(?=HTTP\/1\.1 )/);
    expect(responses[0]).toMatch(/^HTTP\/1\.1 200[\s\S]*late$/);
    expect(responses[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(responses[1]).toMatch(/connection: close/i);
    expect(responses[1]).toContain('"status":"draining"');
    expect(upstream.received).toHaveLength(1);
  });
});

describe('WebSocket upgrades', () => {
  async function wsUpstream() {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    const seen: http.IncomingHttpHeaders[] = [];
    wss.on('connection', (socket, req) => {
      seen.push(req.headers);
      socket.on('message', (data) => socket.send(`echo:${data.toString()}`));
    });
    const port = await listen(server);
    dispose(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await closeServer(server);
    });
    return { url: `http://127.0.0.1:${port}`, seen };
  }

  function open(url: string, headers: Record<string, string>) {
    return new Promise<{ ws?: WebSocket; status?: number; body?: string }>((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.on('open', () => resolve({ ws }));
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      ws.on('error', () => {});
    });
  }

  it('is proxied after the key check, without the key', async () => {
    const upstream = await wsUpstream();
    const world = makeWorld({ chat: upstream.url });
    const proxy = await startProxy(world.snapshot);
    const { ws } = await open(`ws://127.0.0.1:${proxy.port}/acme/chat/socket`, { 'x-api-key': world.linked.secret });
    expect(ws).toBeDefined();
    const reply = new Promise<string>((resolve) => ws!.once('message', (d) => resolve(d.toString())));
    ws!.send('hi');
    expect(await reply).toBe('echo:hi');
    ws!.close();
    expect(upstream.seen[0]!['x-api-key']).toBeUndefined();
    expect(upstream.seen[0]!['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('is refused with the same 401 bodies, and the upstream hears nothing', async () => {
    const upstream = await wsUpstream();
    const world = makeWorld({ chat: upstream.url });
    const proxy = await startProxy(world.snapshot);
    const missing = await open(`ws://127.0.0.1:${proxy.port}/acme/chat/socket`, {});
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body!)).toEqual(bodyOf('missing_api_key'));
    const invalid = await open(`ws://127.0.0.1:${proxy.port}/acme/chat/socket`, { 'x-api-key': world.unlinked.secret });
    expect(invalid.status).toBe(401);
    expect(JSON.parse(invalid.body!)).toEqual(bodyOf('invalid_api_key'));
    const notFound = await open(`ws://127.0.0.1:${proxy.port}/acme/nope/socket`, {});
    expect(notFound.status).toBe(404);
    expect(upstream.seen).toHaveLength(0);
  });
});
