// Cutting requests in flight inside one proxy (docs/architecture.md, "Cutting requests in flight"):
// changes applied to its table end the requests of the key that lost access, with the openai SDK
// as the client and an upstream that streams slowly. The same over real processes and Redis is
// test/e2e/revocation.test.ts.
import http from 'node:http';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { ChangeEvent, KeyState } from '../../src/feed/events.ts';
import { AuthTable } from '../../src/proxy/auth-table.ts';
import { InFlightRegistry, type Revocable } from '../../src/proxy/in-flight.ts';
import { issueSecret } from '../../src/domain/secrets.ts';
import { openStream } from '../helpers/openai-stream.ts';
import type { Streaming } from '../helpers/openai-stream.ts';
import { closeServer, dispose, listen, makeWorld, P1, startProxy, startUpstream, until, type World } from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stream goes on: three more chunks (about 300 ms of the upstream's) come, without an error.
 *  Counted, not slept: on a loaded machine a fixed wait can end before the next chunk is read. */
async function goesOn(s: Streaming) {
  const before = s.chunks;
  await until(() => s.chunks >= before + 3 || s.error !== null);
  expect(s.error).toBeNull();
}

/** An upstream that streams an event every 100 ms for 30 s, or answers JSON after 30 s on /slow-json. */
async function slowUpstream() {
  return startUpstream((req, res) => {
    if (req.url?.includes('slow-json')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
      setTimeout(() => res.end('1}'), 30_000).unref();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    let n = 0;
    const chunk = () =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: `w${n}` }, finish_reason: null }] })}\n\n`;
    res.write(chunk());
    const timer = setInterval(() => {
      if (++n >= 300) {
        clearInterval(timer);
        res.end('data: [DONE]\n\n');
      } else res.write(chunk());
    }, 100);
    res.once('close', () => clearInterval(timer));
  });
}

let revision = 100;
const event = (type: ChangeEvent['type'], payload: ChangeEvent['payload']): ChangeEvent => ({
  revision: ++revision,
  projectId: P1,
  type,
  actor: 'test',
  at: new Date().toISOString(),
  payload,
});

function chatState(world: World, upstream: string, apiKeyIds: string[], authEnabled = true) {
  const d = world.snapshot.deployments.find((x) => x.id === 'd-chat')!;
  return { ...d, upstreamUrl: upstream, apiKeyIds, authEnabled };
}


async function setup() {
  const upstream = await slowUpstream();
  const world = makeWorld({ chat: upstream.url });
  const proxy = await startProxy(world.snapshot);
  return { upstream, world, proxy, baseURL: `${proxy.base}/acme/chat/v1` };
}

async function cutCount(statusPort: number, reason: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
  const m = new RegExp(`keygate_proxy_requests_cut_total\\{reason="${reason}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : -1;
}

describe('cutting requests in flight in one proxy', () => {
  it('an unlink ends the key’s stream with api_key_revoked and aborts the upstream; another key’s stream goes on', async () => {
    const { upstream, world, proxy, baseURL } = await setup();
    const mine = await openStream(baseURL, world.linked.secret);
    const other = await openStream(baseURL, world.expiring.secret);

    proxy.table.applyChange(event('API_KEY_UNLINKED', { apiKeyId: world.keyIds.linked, deploymentId: 'd-chat', deployment: chatState(world, upstream.url, [world.keyIds.expired, world.keyIds.expiring]) }));
    await mine.done;
    expect(mine.error).toBeInstanceOf(OpenAI.APIError);
    expect(mine.error.code).toBe('api_key_revoked');
    expect(String(mine.error.message)).toContain('no longer opens');
    await until(() => upstream.aborted.length > 0);
    expect(upstream.aborted).toHaveLength(1);
    await goesOn(other);
    expect(await cutCount(proxy.statusPort, 'unlinked')).toBe(1);
  });

  it('switching authentication off cuts nothing; a key delete then cuts nothing either (the deployment is open)', async () => {
    const { world, proxy, baseURL, upstream } = await setup();
    const s = await openStream(baseURL, world.linked.secret);
    proxy.table.applyChange(event('DEPLOYMENT_AUTH_CHANGED', { deploymentId: 'd-chat', deployment: chatState(world, upstream.url, [], false) }));
    await goesOn(s);
    proxy.table.applyChange(event('API_KEY_DELETED', { apiKeyId: world.keyIds.linked, deleted: true }));
    await goesOn(s);
  });

  it('an updateDeployment that moves the route is not a revocation', async () => {
    const { world, proxy, baseURL, upstream } = await setup();
    const s = await openStream(baseURL, world.linked.secret);
    proxy.table.applyChange(event('DEPLOYMENT_UPDATED', { deploymentId: 'd-chat', deployment: { ...chatState(world, upstream.url, [world.keyIds.linked]), name: 'chat-2' } }));
    await goesOn(s);
  });

  it('setDeploymentAuth leaving the key out, key delete, deployment delete: each cuts with its reason', async () => {
    const { world, proxy, baseURL, upstream } = await setup();
    let s = await openStream(baseURL, world.linked.secret);
    proxy.table.applyChange(event('DEPLOYMENT_AUTH_CHANGED', { deploymentId: 'd-chat', deployment: chatState(world, upstream.url, [world.keyIds.expiring]) }));
    await s.done;
    expect(s.error.code).toBe('api_key_revoked');
    expect(await cutCount(proxy.statusPort, 'auth_changed')).toBe(1);

    s = await openStream(baseURL, world.expiring.secret);
    proxy.table.applyChange(event('API_KEY_DELETED', { apiKeyId: world.keyIds.expiring, deleted: true }));
    await s.done;
    expect(s.error.code).toBe('api_key_revoked');
    expect(await cutCount(proxy.statusPort, 'deleted')).toBe(1);

    proxy.table.applyChange(event('DEPLOYMENT_AUTH_CHANGED', { deploymentId: 'd-chat', deployment: chatState(world, upstream.url, [world.keyIds.linked]) }));
    s = await openStream(baseURL, world.linked.secret);
    proxy.table.applyChange(event('DEPLOYMENT_DELETED', { deploymentId: 'd-chat', deleted: true }));
    await s.done;
    expect(s.error.code).toBe('api_key_revoked');
    expect(await cutCount(proxy.statusPort, 'deployment_deleted')).toBe(1);
  });

  it('a key whose expiresAt passes mid-stream is cut by the proxy’s own timer', async () => {
    const { world, proxy, baseURL } = await setup();
    const key = world.snapshot.apiKeys.find((k) => k.id === world.keyIds.linked)!;
    proxy.table.applyChange(event('API_KEY_UPDATED', { apiKeyId: key.id, apiKey: { ...key, expiresAt: new Date(Date.now() + 3000).toISOString() } })); // after the stream's first chunk, even on a loaded machine
    const s = await openStream(baseURL, world.linked.secret);
    await s.done;
    expect(s.error.code).toBe('api_key_revoked');
    expect(await cutCount(proxy.statusPort, 'expired')).toBe(1);
  });

  it('a non-streaming response is aborted; a request waiting for headers gets 401', async () => {
    const { world, proxy, upstream } = await setup();
    const started = new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${proxy.base}/acme/chat/v1/slow-json`, { method: 'POST', headers: { 'x-api-key': world.linked.secret } }, resolve);
      req.on('error', reject);
      req.end('{}');
    });
    const res = await started;
    const ended = new Promise<string>((resolve) => {
      res.on('error', () => resolve('aborted'));
      res.on('aborted', () => resolve('aborted'));
      res.on('end', () => resolve(res.complete ? 'complete' : 'aborted'));
    });
    res.resume();
    proxy.table.applyChange(event('API_KEY_DELETED', { apiKeyId: world.keyIds.linked, deleted: true }));
    expect(await ended).toBe('aborted');
    await until(() => upstream.aborted.length > 0);
    expect(upstream.aborted).toContain('/v1/slow-json');
  });
});

describe('WebSocket tunnels', () => {
  it('a tunnel the key opened is closed on both sides when the key is unlinked', async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    let upstreamClosed = false;
    wss.on('connection', (socket) => {
      socket.on('message', (data) => socket.send(`echo:${data.toString()}`));
      socket.on('close', () => (upstreamClosed = true));
    });
    const port = await listen(server);
    dispose(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await closeServer(server);
    });
    const world = makeWorld({ chat: `http://127.0.0.1:${port}` });
    const proxy = await startProxy(world.snapshot);
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/acme/chat/v1/realtime`, { headers: { 'x-api-key': world.linked.secret } });
    ws.on('error', () => {});
    await new Promise((resolve) => ws.once('open', resolve));
    const echoed = new Promise((resolve) => ws.once('message', resolve));
    ws.send('hi');
    expect(String(await echoed)).toBe('echo:hi');
    const closed = new Promise((resolve) => ws.once('close', resolve));
    proxy.table.applyChange(event('API_KEY_UNLINKED', { apiKeyId: world.keyIds.linked, deploymentId: 'd-chat', deployment: chatState(world, `http://127.0.0.1:${port}`, []) }));
    await closed;
    for (let i = 0; i < 50 && !upstreamClosed; i++) await sleep(20);
    expect(upstreamClosed).toBe(true);
    expect(await cutCount(proxy.statusPort, 'unlinked')).toBe(1);
  });
});

describe('InFlightRegistry', () => {
  const flight = (keyId: string, deploymentId: string, admittedHash: string, log: string[]): Revocable => ({
    keyId,
    deploymentId,
    admittedHash,
    revoke() {
      log.push(`${keyId}@${deploymentId}`);
    },
  });
  const key = (id: string, hash: string, extra: Partial<KeyState> = {}): KeyState => ({ id, projectId: P1, hash, expiresAt: null, ...extra });
  /** A table with key k1 (its fields `extra`) linked to d1, and a registry following it; its cuts. */
  const oneKey = (extra: Partial<KeyState> = {}) => {
    const a = issueSecret('kg_');
    const table = new AuthTable();
    const deployment = { id: 'd1', projectId: P1, projectSlug: 'p', name: 'd', upstreamUrl: 'http://127.0.0.1:1', authEnabled: true, apiKeyIds: ['k1'] };
    table.load({ revision: 1, apiKeys: [key('k1', a.hash, extra)], deployments: [deployment] });
    const cuts: string[] = [];
    const registry = new InFlightRegistry({ table, onCut: (reason, n) => cuts.push(`${reason}:${n}`) });
    registry.attach();
    return { a, table, deployment, log: [] as string[], registry, cuts };
  };

  it('rotation: the previous secret’s requests go when the overlap ends (own timer) or a rotation drops it', async () => {
    const [a, b, c] = [issueSecret('kg_'), issueSecret('kg_'), issueSecret('kg_')];
    const table = new AuthTable();
    table.load({
      revision: 1,
      apiKeys: [key('k1', b.hash, { previousHash: a.hash, previousExpiresAt: new Date(Date.now() + 300).toISOString() })],
      deployments: [{ id: 'd1', projectId: P1, projectSlug: 'p', name: 'd', upstreamUrl: 'http://127.0.0.1:1', authEnabled: true, apiKeyIds: ['k1'] }],
    });
    const cuts: string[] = [];
    const log: string[] = [];
    const registry = new InFlightRegistry({ table, onCut: (reason, n) => cuts.push(`${reason}:${n}`) });
    registry.attach();
    registry.add(flight('k1', 'd1', a.hash, log));
    registry.add(flight('k1', 'd1', b.hash, log));
    expect(registry.size).toBe(2);
    await sleep(600);
    expect(cuts).toEqual(['rotated_out:1']);
    expect(registry.size).toBe(1);

    // A second rotation with an overlap: b becomes previous and keeps working; then one with none drops b.
    registry.add(flight('k1', 'd1', c.hash, log));
    table.applyChange({ revision: 2, projectId: P1, type: 'API_KEY_UPDATED', actor: null, at: '', payload: { apiKey: key('k1', c.hash, { previousHash: b.hash, previousExpiresAt: new Date(Date.now() + 60_000).toISOString() }) } });
    expect(registry.size).toBe(2);
    table.applyChange({ revision: 3, projectId: P1, type: 'API_KEY_UPDATED', actor: null, at: '', payload: { apiKey: key('k1', issueSecret('kg_').hash) } });
    expect(cuts).toEqual(['rotated_out:1', 'rotated_out:2']);
    expect(registry.size).toBe(0);
  });

  it('a request added just after its secret’s deadline passed (between admission and add) is still cut', async () => {
    const [a, b] = [issueSecret('kg_'), issueSecret('kg_')];
    const table = new AuthTable();
    const deadline = Date.now() + 60_000;
    table.load({
      revision: 1,
      apiKeys: [key('k1', b.hash, { previousHash: a.hash, previousExpiresAt: new Date(deadline).toISOString() })],
      deployments: [{ id: 'd1', projectId: P1, projectSlug: 'p', name: 'd', upstreamUrl: 'http://127.0.0.1:1', authEnabled: true, apiKeyIds: ['k1'] }],
    });
    const cuts: string[] = [];
    const log: string[] = [];
    // The registry's clock reads 5 ms past the deadline the admission still met.
    const registry = new InFlightRegistry({ table, now: () => deadline + 5, onCut: (reason, n) => cuts.push(`${reason}:${n}`) });
    registry.attach();
    registry.add(flight('k1', 'd1', a.hash, log));
    registry.add(flight('k1', 'd1', b.hash, log));
    for (let i = 0; i < 50 && cuts.length === 0; i++) await sleep(10);
    expect(cuts).toEqual(['rotated_out:1']);
    expect(registry.size).toBe(1);
    // Once checked, the passed deadline is not looked at again.
    await sleep(50);
    expect(cuts).toEqual(['rotated_out:1']);
  });

  it('a cut ends the clients’ side of every request first; their upstream sides are released after, in one batch', async () => {
    const { a, table, deployment, log, registry } = oneKey();
    for (const n of [1, 2, 3]) {
      registry.add({ ...flight('k1', 'd1', a.hash, log), revoke: () => log.push(`revoke ${n}`), release: () => log.push(`release ${n}`) });
    }
    table.applyChange({ revision: 2, projectId: P1, type: 'API_KEY_UNLINKED', actor: null, at: '', payload: { deployment: { ...deployment, apiKeyIds: [] } } });
    // What applyChange (and so the ack after it) waited for: the clients' side only.
    expect(log).toEqual(['revoke 1', 'revoke 2', 'revoke 3']);
    expect(registry.size).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['revoke 1', 'revoke 2', 'revoke 3', 'release 1', 'release 2', 'release 3']);
  });

  it('a key idle between its requests is still cut at its expiry, also when it changed while idle', async () => {
    const { a, table, log, registry, cuts } = oneKey({ expiresAt: new Date(Date.now() + 60_000).toISOString() });
    // One request at a time: the key's record (and its timer for the expiry a minute away) outlives the first.
    const first = flight('k1', 'd1', a.hash, log);
    registry.add(first);
    registry.remove(first);
    expect(registry.size).toBe(0);
    // While idle the key is moved to expire sooner; its next request must meet the new deadline.
    table.applyChange({ revision: 2, projectId: P1, type: 'API_KEY_UPDATED', actor: null, at: '', payload: { apiKey: key('k1', a.hash, { expiresAt: new Date(Date.now() + 300).toISOString() }) } });
    registry.add(flight('k1', 'd1', a.hash, log));
    await until(() => cuts.length > 0, 2000);
    expect(cuts).toEqual(['expired:1']);
    expect(log).toEqual(['k1@d1']);
    expect(registry.size).toBe(0);
  });

  it('a snapshot reload re-checks every request', () => {
    const { a, table, deployment, log, registry } = oneKey();
    registry.add(flight('k1', 'd1', a.hash, log));
    table.load({ revision: 5, apiKeys: [key('k1', a.hash)], deployments: [deployment] });
    expect(log).toEqual([]);
    table.load({ revision: 6, apiKeys: [key('k1', a.hash)], deployments: [{ ...deployment, apiKeyIds: [] }] });
    expect(log).toEqual(['k1@d1']);
  });
});
