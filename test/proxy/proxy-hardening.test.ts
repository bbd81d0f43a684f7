// Issue 15's proxy findings and issue 16's refusal reasons and access log, each through a real
// proxy server and real upstreams: the upstream policy at connect time, framing toward the
// upstream, encoded dot segments, the connection cap, refusal reasons in metrics and logs, and
// the access log.
import http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { issueSecret } from '../../src/domain/secrets.ts';
import { ANSWERS, type ProxyErrorCode } from '../../src/proxy/answers.ts';
import { UsageAggregator } from '../../src/usage/aggregator.ts';
import { header, rawExchange, settle } from '../hardening/proxy-helpers.ts';
import { closeServer, dispose, listen, makeWorld, request, sleep, startProxy, startUpstream, until } from './helpers.ts';

const bodyOf = (code: ProxyErrorCode) => ANSWERS[code].body.toString();
const metricsOf = async (port: number) => (await request(port, '/metrics')).body;

/** A pino logger whose lines land in `lines`, parsed. */
function capturedLog(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level }, sink) };
}

describe('upstream policy at connect time (issue 15, finding 3)', () => {
  it.each(['0', '0.0.0.0', '[::]', '[::ffff:0.0.0.0]', '[::ffff:0:0]'])(
    'http://%s:<port> does not reach a loopback listener through a loopback deny list',
    async (host) => {
      // a listener on every address, as the control plane might be
      const upstream = await startUpstream();
      const anyAddress = http.createServer((_req, res) => res.end('{"reached":true}'));
      const port = await listen(anyAddress, '::');
      dispose(() => closeServer(anyAddress));
      const world = makeWorld({ chat: upstream.url, open: `http://${host}:${port}/v1` });
      const proxy = await startProxy(world.snapshot, { deny: ['127.0.0.0/8', '::1/128'] });
      const res = await request(proxy.port, '/acme/open/models');
      expect(res.status).toBe(502);
      expect(res.body).toBe(bodyOf('upstream_refused'));
      // and without any deny rule: "this host" is never an upstream
      const open = await startProxy(world.snapshot);
      expect((await request(open.port, '/acme/open/models')).body).toBe(bodyOf('upstream_refused'));
    },
  );

  it.each(['[::a9fe:a9fe]', '[64:ff9b::a9fe:a9fe]', '[::ffff:0:a9fe:a9fe]', '[2002:a9fe:a9fe::]', '100.100.100.200', '2852039166', '0251.0376.0251.0376'])(
    'a metadata address written as %s is refused before any connection',
    async (host) => {
      const upstream = await startUpstream();
      const world = makeWorld({ chat: upstream.url, open: `http://${host}/latest/meta-data` });
      const proxy = await startProxy(world.snapshot);
      const res = await request(proxy.port, '/acme/open/');
      expect(res.status).toBe(502);
      expect(res.body).toBe(bodyOf('upstream_refused'));
    },
  );

  it('with NODE_ENV=production (refuseLoopback) loopback is refused by address and by name; allow makes the exception', async () => {
    const upstream = await startUpstream();
    for (const open of [upstream.url, `http://localhost:${upstream.port}`, `http://[::ffff:127.0.0.1]:${upstream.port}`, `http://2130706433:${upstream.port}`]) {
      const proxy = await startProxy(makeWorld({ chat: upstream.url, open }).snapshot, { refuseLoopback: true });
      const res = await request(proxy.port, '/acme/open/v1/models');
      expect([open, res.status, res.body]).toEqual([open, 502, bodyOf('upstream_refused')]);
    }
    expect(upstream.received).toHaveLength(0);
    const allowed = await startProxy(makeWorld({ chat: upstream.url, open: upstream.url }).snapshot, { refuseLoopback: true, allow: ['127.0.0.1'] });
    expect((await request(allowed.port, '/acme/open/v1/models')).status).toBe(200);
  });
});

describe('framing toward the upstream (issue 15, finding 9)', () => {
  const chunkedPost = (te: string) =>
    Buffer.from(`POST /acme/open/v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`);

  it.each(['identity, chunked', 'Chunked', 'identity,chunked', 'IDENTITY , chunked'])('Transfer-Encoding: %s reaches the upstream as exactly "chunked"', async (te) => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    const res = await rawExchange(proxy.port, chunkedPost(te));
    expect(res.status).toBe(200);
    const seen = upstream.received[0]!;
    const teHeaders = seen.rawHeaders.filter((_, i) => i % 2 === 1 && seen.rawHeaders[i - 1]!.toLowerCase() === 'transfer-encoding');
    expect(teHeaders).toEqual(['chunked']);
    expect(seen.body).toBe('hello world');
  });

  it('refuses any other transfer coding with 400, after the key check, and the upstream gets nothing', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: upstream.url });
    const proxy = await startProxy(world.snapshot);
    const res = await rawExchange(proxy.port, chunkedPost('gzip, chunked'));
    expect([res.status, res.body]).toEqual([400, bodyOf('unsupported_transfer_encoding')]);
    const guarded = Buffer.from(chunkedPost('gzip, chunked').toString().replace('/acme/open/', '/acme/chat/'));
    expect((await rawExchange(proxy.port, guarded)).status).toBe(401);
    expect(upstream.received).toHaveLength(0);
  });

  it.each([204, 304])('no Content-Length or Transfer-Encoding is relayed on a %i', async (status) => {
    // A raw upstream, since Node's server would not send these on a 204 itself.
    const raw = net.createServer((socket) => {
      socket.once('data', () => socket.end(`HTTP/1.1 ${status} X\r\nContent-Length: 5\r\nETag: "e"\r\nConnection: close\r\n\r\n`));
    });
    const port = await new Promise<number>((resolve) => raw.listen(0, '127.0.0.1', () => resolve((raw.address() as net.AddressInfo).port)));
    dispose(() => new Promise((r) => raw.close(() => r())));
    const proxy = await startProxy(makeWorld({ chat: `http://127.0.0.1:${port}`, open: `http://127.0.0.1:${port}` }).snapshot);
    const res = await rawExchange(proxy.port, Buffer.from('GET /acme/open/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
    expect(res.status).toBe(status);
    expect(header(res, 'etag')).toBe('"e"');
    expect(header(res, 'content-length')).toBeUndefined();
    expect(header(res, 'transfer-encoding')).toBeUndefined();
  });
});

describe('dot segments in the path (issue 15, finding 9)', () => {
  it.each(['/v1/..%2f..%2fadmin', '/v1/%2e%2e/admin', '/v1/%2E%2E%2Fadmin', '/v1/.%2e/admin', '/v1/..%5cadmin', '/v1/..\\admin', '/v1/..;/admin', '/v1/%252e%252e%252fadmin', '/v1/../admin', '/v1/./models', '/..'])(
    '%s is refused with 400 invalid_path and never reaches the upstream',
    async (path) => {
      const upstream = await startUpstream();
      const world = makeWorld({ chat: `${upstream.url}/base` });
      const proxy = await startProxy(world.snapshot);
      const via = [
        rawExchange(proxy.port, Buffer.from(`GET /acme/chat${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${world.linked.secret}\r\nConnection: close\r\n\r\n`)),
        rawExchange(proxy.port, Buffer.from(`GET ${path} HTTP/1.1\r\nHost: model-chat.acme.keygate.test\r\nX-API-Key: ${world.linked.secret}\r\nConnection: close\r\n\r\n`)),
      ];
      for (const res of await Promise.all(via)) expect([res.status, res.body]).toEqual([400, bodyOf('invalid_path')]);
      // without a key the answer is the key's: the path rule says nothing to a stranger
      const stranger = await rawExchange(proxy.port, Buffer.from(`GET /acme/chat${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
      expect(stranger.status).toBe(401);
      expect(upstream.received).toHaveLength(0);
    },
  );

  it('an encoded slash without dots passes as sent, under the base path', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: `${upstream.url}/base` });
    const proxy = await startProxy(world.snapshot);
    for (const path of ['/v1/models/meta-llama%2FLlama-3.1-8B', '/v1/models/llama-3.1', '/v1/a..b/c.d']) {
      const res = await request(proxy.port, `/acme/chat${path}`, { headers: { 'x-api-key': world.linked.secret } });
      expect(res.status).toBe(200);
      expect(upstream.received.at(-1)!.url).toBe(`/base${path}`);
    }
  });
});

describe('the connection cap (issue 15, finding 9)', () => {
  /** A keep-alive connection that has answered one request and stays open. */
  async function heldConnection(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.write('GET /-/healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      socket.once('data', () => resolve());
    });
    dispose(async () => void socket.destroy());
    return socket;
  }

  it('counts every connection whoever opened it, answers the excess 503 and closes it, and recovers', async () => {
    const upstream = await startUpstream();
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot, { maxConnections: 2 });
    const first = await heldConnection(proxy.port);
    await heldConnection(proxy.port);
    const req = 'GET /acme/open/v1/models HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n';
    // from another local address as well: the cap is global, not per client address
    for (const localAddress of ['127.0.0.1', '127.0.0.2']) {
      const refused = await new Promise<string>((resolve) => {
        const s = net.connect({ port: proxy.port, host: '127.0.0.1', localAddress }, () => s.write(req));
        let got = '';
        s.on('data', (d) => (got += d));
        s.on('close', () => resolve(got));
      });
      expect(refused).toMatch(/^HTTP\/1\.1 503 /);
      expect(refused.toLowerCase()).toContain('connection: close');
      expect(refused).toContain(bodyOf('too_many_connections'));
    }
    expect(upstream.received).toHaveLength(0);
    // health checks are still answered on a connection over the cap
    const health = await rawExchange(proxy.port, Buffer.from('GET /-/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(health.status).toBe(200);
    first.destroy();
    // Once the proxy has seen it (and the health check's connection) close: a request before then would
    // be refused, and counted, as the excess.
    const openConnections = async () => Number(/^keygate_proxy_open_connections (\d+)$/m.exec(await metricsOf(proxy.statusPort))?.[1]);
    expect(await settle(openConnections, (n) => n <= 1, 5000)).toBe(1);
    expect((await request(proxy.port, '/acme/open/v1/models')).status).toBe(200);
    const text = await metricsOf(proxy.statusPort);
    expect(text).toMatch(/keygate_proxy_connections_refused_total [3-9]/);
    expect(text).toContain('keygate_proxy_rejections_total{code="too_many_connections"} 2');
  });
});

describe('refusal reasons (issue 16)', () => {
  it('counts each refusal by reason and logs it at debug, while the client gets the one body', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: upstream.url });
    const { lines, log } = capturedLog('debug');
    const proxy = await startProxy(world.snapshot, {}, log);
    const cases: [string, Record<string, string>, ProxyErrorCode][] = [
      ['missing', {}, 'missing_api_key'],
      ['malformed', { 'x-api-key': 'kg_not-a-key' }, 'invalid_api_key'],
      ['unknown', { 'x-api-key': issueSecret('kg_').secret }, 'invalid_api_key'],
      ['not_linked', { 'x-api-key': world.unlinked.secret }, 'invalid_api_key'],
      ['expired', { 'x-api-key': world.expired.secret }, 'invalid_api_key'],
      ['other_project', { 'x-api-key': world.otherProject.secret }, 'invalid_api_key'],
    ];
    for (const [reason, headers, code] of cases) {
      const res = await request(proxy.port, '/acme/chat/v1/models', { headers });
      expect([reason, res.status, res.body]).toEqual([reason, 401, bodyOf(code)]);
      const text = await metricsOf(proxy.statusPort);
      expect(text).toContain(`keygate_proxy_refusals_total{reason="${reason}"} 1`);
      expect(lines.findLast((l) => l.msg === 'key refused')).toMatchObject({ reason, deployment: 'acme/chat' });
      lines.length = 0;
    }
    // the label set is complete from the start, producers or not
    const text = await metricsOf(proxy.statusPort);
    for (const reason of ['rotated_out', 'rate_limited']) expect(text).toContain(`keygate_proxy_refusals_total{reason="${reason}"} 0`);
    expect(JSON.stringify(lines)).not.toMatch(/kg_[0-9A-Za-z]{20}/);
    for (const k of [world.unlinked, world.expired, world.otherProject]) expect(JSON.stringify(lines)).not.toContain(k.hash);
    expect(upstream.received).toHaveLength(0);
  });
});

describe('the access log (issue 16)', () => {
  it('writes one line per request: request id, deployment, key name, status, ms — never a secret or hash', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: upstream.url });
    const { lines, log } = capturedLog('info');
    const proxy = await startProxy(world.snapshot, { accessLog: true }, log);
    await request(proxy.port, '/acme/chat/v1/models?secret=q', { headers: { 'x-api-key': world.linked.secret, 'x-request-id': 'req-1' } });
    await request(proxy.port, '/v1/models', { host: 'model-chat.acme.keygate.test', headers: { authorization: `Bearer ${world.expired.secret}`, 'x-request-id': 'req-2' } });
    await request(proxy.port, '/acme/nope/v1/models');
    await request(proxy.port, '/-/healthz');
    await until(() => lines.filter((l) => l.component === 'access').length >= 3);
    const access = lines.filter((l) => l.component === 'access');
    expect(access).toHaveLength(3);
    expect(access[0]).toMatchObject({ msg: 'request', requestId: 'req-1', method: 'GET', path: '/acme/chat/v1/models', deployment: 'acme/chat', key: 'linked-key', status: 200 });
    expect(typeof access[0]!.ms).toBe('number');
    expect(access[1]).toMatchObject({ requestId: 'req-2', deployment: 'acme/chat', key: 'expired-key', status: 401, reason: 'expired' });
    expect(access[2]).toMatchObject({ deployment: null, key: null, status: 404 });
    const text = JSON.stringify(lines);
    for (const k of [world.linked, world.expired]) {
      expect(text).not.toContain(k.secret);
      expect(text).not.toContain(k.hash);
    }
    expect(text).not.toContain('secret=q');
  });

  it('carries the tokens of the response with usage metering on; the meter counts the same request and the refusals by known key', async () => {
    const usageBody = JSON.stringify({ object: 'chat.completion', usage: { prompt_tokens: 7, completion_tokens: 11, total_tokens: 18 } });
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(usageBody);
    });
    const world = makeWorld({ chat: upstream.url });
    const { lines, log } = capturedLog('info');
    const usage = new UsageAggregator();
    const proxy = await startProxy(world.snapshot, { accessLog: true, usage }, log);
    const ok = await request(proxy.port, '/acme/chat/v1/chat/completions', { body: '{}', headers: { 'x-api-key': world.linked.secret, 'x-request-id': 'req-t' } });
    expect(ok.body).toBe(usageBody);
    // refused: a known key of the project (counted on it), another project's key and garbage (counted on no key)
    await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': world.unlinked.secret } });
    await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': world.otherProject.secret } });
    await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': 'kg_nonsense' } });
    await until(() => lines.filter((l) => l.component === 'access').length >= 4);
    const access = lines.filter((l) => l.component === 'access');
    expect(access[0]).toMatchObject({ requestId: 'req-t', key: 'linked-key', status: 200, tokens: { prompt: 7, completion: 11 } });
    for (const refused of access.slice(1)) expect(refused).not.toHaveProperty('tokens');
    const rows = usage.drain().map(({ minute: _m, lastUsedAt: _l, projectId: _p, ...r }) => r);
    expect(rows).toHaveLength(3);
    expect(rows).toContainEqual({ deploymentId: 'd-chat', apiKeyId: world.keyIds.linked, requests: 1, errors: 0, rejected: 0, rateLimited: 0, promptTokens: 7, completionTokens: 11 });
    expect(rows).toContainEqual({ deploymentId: 'd-chat', apiKeyId: world.keyIds.unlinked, requests: 0, errors: 0, rejected: 1, rateLimited: 0, promptTokens: 0, completionTokens: 0 });
    expect(rows).toContainEqual({ deploymentId: 'd-chat', apiKeyId: null, requests: 0, errors: 0, rejected: 2, rateLimited: 0, promptTokens: 0, completionTokens: 0 });
  });

  it('is off by default', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: upstream.url });
    const { lines, log } = capturedLog('info');
    const proxy = await startProxy(world.snapshot, {}, log);
    await request(proxy.port, '/acme/open/v1/models');
    await sleep(20);
    expect(lines.filter((l) => l.component === 'access')).toHaveLength(0);
  });
});
