// Through createProxyServer with real upstreams: who gets in, what the refusals look like, and what
// the upstream is told (and never told).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { issueSecret } from '../../src/domain/secrets.ts';
import { ANSWERS } from '../../src/proxy/answers.ts';
import { RateLimiter } from '../../src/ratelimit/limiter.ts';
import { makeWorld, request, startProxy, startUpstream, until } from './helpers.ts';

async function setup() {
  const upstream = await startUpstream();
  let connections = 0;
  upstream.server.on('connection', () => connections++);
  const world = makeWorld({ chat: upstream.url });
  const proxy = await startProxy(world.snapshot);
  return { upstream, world, proxy, connections: () => connections };
}

const bodyOf = (code: keyof typeof ANSWERS) => JSON.parse(ANSWERS[code].body.toString());

describe('refusals', () => {
  it('401 missing_api_key in the OpenAI error shape, and the upstream hears nothing', async () => {
    const { upstream, proxy, connections } = await setup();
    const res = await request(proxy.port, '/acme/chat/v1/chat/completions', { body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', code: 'missing_api_key' } });
    expect(upstream.received).toHaveLength(0);
    expect(connections()).toBe(0);
  });

  it('401 invalid_api_key with one identical body for every reason, upstream untouched', async () => {
    const { upstream, world, proxy, connections } = await setup();
    const malformed = world.linked.secret.slice(0, -1) + (world.linked.secret.endsWith('a') ? 'b' : 'a');
    const cases: Array<[string, string[]]> = [
      ['malformed', ['X-API-Key', malformed]],
      ['unknown', ['X-API-Key', issueSecret('kg_').secret]],
      ['unlinked', ['X-API-Key', world.unlinked.secret]],
      ['expired', ['X-API-Key', world.expired.secret]],
      ['other project', ['X-API-Key', world.otherProject.secret]],
      ['duplicated X-API-Key', ['X-API-Key', world.linked.secret, 'X-API-Key', world.linked.secret]],
      ['duplicated Authorization', ['Authorization', `Bearer ${world.linked.secret}`, 'Authorization', `Bearer ${world.linked.secret}`]],
      ['Basic', ['Authorization', 'Basic dXNlcjpwYXNz']],
      ['non-keygate Bearer', ['Authorization', 'Bearer sk-something']],
    ];
    const bodies = new Set<string>();
    for (const [name, headers] of cases) {
      const res = await request(proxy.port, '/acme/chat/v1/models', { headers: ['Host', '127.0.0.1', ...headers] });
      expect(res.status, name).toBe(401);
      expect(res.json(), name).toEqual(bodyOf('invalid_api_key'));
      bodies.add(res.body);
    }
    expect(bodies.size).toBe(1);
    expect(upstream.received).toHaveLength(0);
    expect(connections()).toBe(0);
  });

  it('a deleted key stops working on the next request', async () => {
    const { world, proxy } = await setup();
    const headers = { 'x-api-key': world.linked.secret };
    expect((await request(proxy.port, '/acme/chat/v1/models', { headers })).status).toBe(200);
    proxy.table.applyChange({ revision: 11, projectId: 'p', type: 'API_KEY_DELETED', actor: null, at: '', payload: { apiKeyId: world.keyIds.linked, deleted: true } });
    expect((await request(proxy.port, '/acme/chat/v1/models', { headers })).json()).toEqual(bodyOf('invalid_api_key'));
  });

  it('404 deployment_not_found for unknown deployments, hosts and paths', async () => {
    const { upstream, proxy, world } = await setup();
    const headers = { 'x-api-key': world.linked.secret };
    for (const [path, host] of [
      ['/acme/nope/v1/models', undefined],
      ['/nope/chat/v1/models', undefined],
      ['/', undefined],
      ['/v1/models', 'model-nope.acme.keygate.test'],
      ['/v1/models', 'model-chat.nope.keygate.test:8080'],
    ] as const) {
      const res = await request(proxy.port, path, { headers, host });
      expect(res.status, `${host} ${path}`).toBe(404);
      expect(res.json()).toEqual(bodyOf('deployment_not_found'));
    }
    expect(upstream.received).toHaveLength(0);
  });
});

describe('a request held for its key’s first rate-limit grant', () => {
  it('is checked again when the wait ends: unlinked meanwhile, it gets 401 and the upstream hears nothing', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: upstream.url });
    const linked = world.snapshot.apiKeys.find((k) => k.id === world.keyIds.linked)!;
    linked.rateLimit = { requestsPerMinute: 100, tokensPerMinute: null };
    // Shared counting with no sync answering: the key's first request waits the whole grant time.
    const limiter = new RateLimiter();
    limiter.shared = true;
    // The hold outlasts a loaded machine's pause between its start and the unlink below.
    limiter.grantMs = 2000;
    let holding = false;
    limiter.onWant = () => (holding = true); // the hold asks the (absent) sync for a grant as it begins
    const proxy = await startProxy(world.snapshot, { rateLimiter: limiter });
    const held = request(proxy.port, '/acme/chat/v1/chat/completions', { headers: { 'X-API-Key': world.linked.secret }, body: '{}' });
    await until(() => holding);
    const chat = world.snapshot.deployments.find((d) => d.id === 'd-chat')!;
    proxy.table.applyChange({ revision: 11, projectId: chat.projectId, type: 'API_KEY_UNLINKED', actor: null, at: '', payload: { apiKeyId: world.keyIds.linked, deploymentId: chat.id, deployment: { ...chat, apiKeyIds: chat.apiKeyIds.filter((id) => id !== world.keyIds.linked) } } });
    const res = await held;
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(upstream.received).toHaveLength(0);
  });
});

describe('forwarding an admitted request', () => {
  it('routes by host (any case, port ignored) and by path, joining the upstream base path', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: `${upstream.url}/base/` });
    const proxy = await startProxy(world.snapshot);
    const headers = { 'x-api-key': world.linked.secret };

    const byHost = await request(proxy.port, '/v1/models?limit=2', { headers, host: `MODEL-CHAT.Acme.keygate.test:${proxy.port}` });
    expect(byHost.status).toBe(200);
    const byPath = await request(proxy.port, '/ACME/chat/v1/chat/completions?x=1', { headers, body: '{"a":1}' });
    expect(byPath.status).toBe(200);

    expect(upstream.received.map((r) => [r.method, r.url])).toEqual([
      ['GET', '/base/v1/models?limit=2'],
      ['POST', '/base/v1/chat/completions?x=1'],
    ]);
    expect(upstream.received[1]!.body).toBe('{"a":1}');
  });

  it('a request path cannot climb above the upstream base path', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: `${upstream.url}/tenant-a?v=1` });
    const proxy = await startProxy(world.snapshot);
    // Dot segments, plain or encoded, are refused (request-shape.ts), never resolved or passed on.
    for (const path of ['/acme/open/../../tenant-b/x', '/acme/open/%2e%2e/tenant-b/x', '/acme/open/v1/./models?q=2', '/acme/open/..%2f..%2ftenant-b/x']) {
      expect((await request(proxy.port, path)).status).toBe(400);
    }
    // The last two are plain paths (no URL parsing): the base path and query are joined all the same.
    for (const path of ['/acme/open/v1/models?q=2', '/acme/open/v1/chat/completions', '/acme/open//v1_x~y-z/']) {
      expect((await request(proxy.port, path)).status).toBe(200);
    }
    expect(upstream.received.map((r) => r.url)).toEqual(['/tenant-a/v1/models?v=1&q=2', '/tenant-a/v1/chat/completions?v=1', '/tenant-a//v1_x~y-z/?v=1']);
  });

  it('auth off: everything passes, another Authorization untouched', async () => {
    const { upstream, proxy } = await setup();
    const res = await request(proxy.port, '/acme/open/v1/models', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(res.status).toBe(200);
    const bare = await request(proxy.port, '/acme/open/anything', { method: 'OPTIONS' });
    expect(bare.status).toBe(200);
    expect(upstream.received[0]!.headers.authorization).toBe('Basic dXNlcjpwYXNz');
    expect(upstream.received[1]!.method).toBe('OPTIONS');
  });

  it('credentials never reach the upstream; another Bearer does', async () => {
    const { upstream, world, proxy } = await setup();
    const secret = world.linked.secret;
    await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': secret } });
    await request(proxy.port, '/acme/chat/v1/models', { headers: { authorization: `Bearer ${secret}` } });
    await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': secret, authorization: 'Bearer sk-upstream' } });
    await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': secret, authorization: `Bearer ${secret}` } });
    // On an open deployment a keygate key is still never passed on.
    await request(proxy.port, '/acme/open/v1/models', { headers: { 'x-api-key': secret, authorization: `Bearer ${secret}` } });

    expect(upstream.received).toHaveLength(5);
    for (const r of upstream.received) {
      expect(r.headers['x-api-key']).toBeUndefined();
      expect(JSON.stringify(r.rawHeaders)).not.toContain(secret);
      expect(JSON.stringify(r.rawHeaders)).not.toContain(world.linked.hash);
    }
    expect(upstream.received.map((r) => r.headers.authorization)).toEqual([undefined, undefined, 'Bearer sk-upstream', undefined, undefined]);
  });

  it('writes its own X-Forwarded-*, gives the upstream its own Host, keeps or adds X-Request-Id', async () => {
    const { upstream, world, proxy } = await setup();
    const clientHost = `model-chat.acme.keygate.test:${proxy.port}`;
    const first = await request(proxy.port, '/v1/models', {
      host: clientHost,
      headers: {
        'x-api-key': world.linked.secret,
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        forwarded: 'for=6.6.6.6',
        'x-request-id': 'req-123',
      },
    });
    const second = await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': world.linked.secret } });

    const [a, b] = upstream.received;
    expect(a!.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    expect(a!.headers['x-forwarded-host']).toBe(clientHost);
    expect(a!.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(a!.headers['x-forwarded-proto']).toBe('http');
    expect(a!.headers.forwarded).toBeUndefined();
    expect(a!.headers['x-request-id']).toBe('req-123');
    expect(first.headers['x-request-id']).toBe('req-123');

    expect(b!.headers['x-forwarded-host']).toBe(`127.0.0.1:${proxy.port}`);
    expect(b!.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.headers['x-request-id']).toBe(b!.headers['x-request-id']);
  });

  it('passes the upstream status, headers and body through', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(418, 'Teapot', { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-upstream': 'yes' });
      res.end('short and stout');
    });
    const world = makeWorld({ chat: upstream.url });
    const proxy = await startProxy(world.snapshot);
    const res = await request(proxy.port, '/acme/open/x', { method: 'DELETE' });
    expect(res.status).toBe(418);
    expect(res.body).toBe('short and stout');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-upstream']).toBe('yes');
  });

  it('logs every request at debug without a secret or a hash', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: upstream.url });
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const proxy = await startProxy(world.snapshot, {}, log);
    const secrets = [world.linked.secret, world.unlinked.secret];
    await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': world.linked.secret } });
    await request(proxy.port, '/acme/chat/v1/models', { headers: { authorization: `Bearer ${world.unlinked.secret}` } });
    await request(proxy.port, '/acme/chat/v1/models');
    await upstream.stop();
    await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': world.linked.secret } });
    const text = lines.join('');
    expect(text).toContain('"msg":"forwarded"');
    expect(text).toContain('"code":"invalid_api_key"');
    expect(text).toContain('"msg":"upstream failed"');
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toContain(world.linked.hash);
    expect(text).not.toContain(world.unlinked.hash);
  });

  it('Expect: 100-continue is answered after the key check', async () => {
    const { upstream, world, proxy } = await setup();
    const refused = await request(proxy.port, '/acme/chat/v1/x', { headers: { expect: '100-continue' }, body: 'payload' });
    expect(refused.status).toBe(401);
    const admitted = await request(proxy.port, '/acme/chat/v1/x', { headers: { expect: '100-continue', 'x-api-key': world.linked.secret }, body: 'payload' });
    expect(admitted.status).toBe(200);
    expect(upstream.received.map((r) => r.body)).toEqual(['payload']);
    expect(upstream.received[0]!.headers.expect).toBeUndefined();
  });
});
