// Revocation reaches requests in flight (docs/architecture.md, "Cutting requests in flight"), with
// real processes: a control plane and two `keygate proxy` processes on Postgres and Redis, the mock
// upstream streaming slowly (a chunk every 500 ms for 30 s), the openai SDK as the client. A change
// that takes the key's access away ends its streams on both proxies within the mutation's
// confirmation; the SDK raises api_key_revoked; the upstream sees its requests aborted.
import http from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockUpstream, type MockUpstream } from '../../src/dev/mock-upstream.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { startProxyProcess, type ProxyProcess } from '../helpers/proxy-process.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';
import { openStream as openStreamAt, type Streaming } from '../helpers/openai-stream.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** far below the stream's 30 s: a stream done within it was cut, not finished */
const CUT_WITHIN_MS = 5000;

let db: TestDatabase;
let cp: TestKeygate;
let upstream: MockUpstream;
let proxies: ProxyProcess[] = [];
let ports: number[] = [];

beforeAll(async () => {
  upstream = createMockUpstream({ chunkDelayMs: 500, streamChunks: 60, jsonDelayMs: 30_000 });
  await upstream.start();
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgcut')}:` };
  cp = await startTestKeygate({ env: { ...env, LOG_LEVEL: 'warn', KEYGATE_PROPAGATION_TIMEOUT_MS: '5000' }, mode: 'control-plane' });
  proxies = await Promise.all([startProxyProcess(env), startProxyProcess(env)]);
  ports = proxies.map((p) => p.port);
}, 120_000);

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await cp?.stop();
  await upstream?.stop();
  await db?.drop();
});

const openStream = (port: number, slug: string, name: string, apiKey: string) => openStreamAt(`http://127.0.0.1:${port}/${slug}/${name}/v1`, apiKey);

const within = (p: Promise<void>, ms: number) => Promise.race([p.then(() => true), sleep(ms).then(() => false)]);

/** A project with a deployment opened by key `a` (and `b`, linked too), and a stream of `a` through each proxy. */
async function world(extra: { expiresAt?: string } = {}) {
  const project = await createProject(cp);
  const a = await createKey(cp, project.id, 'key-a', extra);
  const b = await createKey(cp, project.id, 'key-b');
  const d = await createDeployment(cp, project.id, 'chat', { upstreamUrl: `http://127.0.0.1:${upstream.port}`, authEnabled: true, apiKeyIds: [a.apiKey.id, b.apiKey.id] });
  const streams = await Promise.all(ports.map((port) => openStream(port, project.slug, 'chat', a.secret)));
  return { project, a, b, d, streams };
}

async function expectCut(streams: Streaming[], abortedBefore: number) {
  for (const s of streams) {
    expect(await within(s.done, CUT_WITHIN_MS)).toBe(true);
    expect(s.error).toBeInstanceOf(OpenAI.APIError);
    expect(s.error.code).toBe('api_key_revoked');
    expect(String(s.error.message)).toContain('no longer opens this deployment');
  }
  for (let i = 0; i < 100 && upstream.aborted < abortedBefore + streams.length; i++) await sleep(50);
  expect(upstream.aborted).toBe(abortedBefore + streams.length);
}

async function expectGoingOn(s: Streaming) {
  const before = s.chunks;
  for (let i = 0; i < 100 && s.chunks === before; i++) await sleep(50);
  expect(s.error).toBeNull();
  expect(s.chunks).toBeGreaterThan(before);
}

/** Requests cut so far, all reasons, both proxies (keygate_proxy_requests_cut_total). */
async function cutTotal(): Promise<number> {
  let total = 0;
  for (const { statusPort } of proxies) {
    const text = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
    for (const m of text.matchAll(/^keygate_proxy_requests_cut_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  }
  return total;
}

/** Runs a mutation; its propagation must be confirmed by both proxies, and when it is, the proxies
 *  have already cut `cuts` requests (the cut is part of applying the change, before the ack). */
async function mutate(query: string, input: Record<string, unknown>, field: string, cuts = 0) {
  const before = await cutTotal();
  const r = await cp.gql(query, { input });
  expect(r.errors).toBeUndefined();
  const propagation = (r.data as any)[field].propagation;
  expect(propagation).toMatchObject({ confirmed: true, appliedBy: 2, expected: 2 });
  expect(await cutTotal()).toBe(before + cuts);
}

const UNLINK = 'mutation($input: UnlinkApiKeyInput!) { unlinkApiKey(input: $input) { propagation { confirmed appliedBy expected } } }';
const DELETE_KEY = 'mutation($input: DeleteApiKeyInput!) { deleteApiKey(input: $input) { propagation { confirmed appliedBy expected } } }';
const DELETE_DEPLOYMENT = 'mutation($input: DeleteDeploymentInput!) { deleteDeployment(input: $input) { propagation { confirmed appliedBy expected } } }';
const SET_AUTH = 'mutation($input: SetDeploymentAuthInput!) { setDeploymentAuth(input: $input) { propagation { confirmed appliedBy expected } } }';

describe('revocation reaches requests in flight, on two proxies', { timeout: 60_000 }, () => {
  it('unlink: both streams end with api_key_revoked, the upstream sees both aborted; another key’s stream goes on', async () => {
    const { project, a, b, d, streams } = await world();
    const other = await openStream(ports[0]!, project.slug, 'chat', b.secret);
    const aborted = upstream.aborted;
    await mutate(UNLINK, { apiKeyId: a.apiKey.id, deploymentId: d.id }, 'unlinkApiKey', 2);
    await expectCut(streams, aborted);
    await expectGoingOn(other);
  });

  it('key delete', async () => {
    const { a, streams } = await world();
    const aborted = upstream.aborted;
    await mutate(DELETE_KEY, { id: a.apiKey.id, force: true }, 'deleteApiKey', 2);
    await expectCut(streams, aborted);
  });

  it('deleteDeployment', async () => {
    const { d, streams } = await world();
    const aborted = upstream.aborted;
    await mutate(DELETE_DEPLOYMENT, { id: d.id }, 'deleteDeployment', 2);
    await expectCut(streams, aborted);
  });

  it('setDeploymentAuth leaving the key out; the key it keeps goes on', async () => {
    const { project, b, d, streams } = await world();
    const other = await openStream(ports[1]!, project.slug, 'chat', b.secret);
    const aborted = upstream.aborted;
    await mutate(SET_AUTH, { deploymentId: d.id, enabled: true, apiKeyIds: [b.apiKey.id] }, 'setDeploymentAuth', 2);
    await expectCut(streams, aborted);
    await expectGoingOn(other);
  });

  it('authentication switched off mid-stream: the streams go on', async () => {
    const { d, streams } = await world();
    await mutate(SET_AUTH, { deploymentId: d.id, enabled: false }, 'setDeploymentAuth');
    for (const s of streams) await expectGoingOn(s);
  });

  it('a key expiring mid-stream: each proxy cuts at expiresAt by its own timer', async () => {
    // Time enough for the world (four confirmed mutations and two streams' first chunks) before it expires, on a loaded machine.
    const { streams } = await world({ expiresAt: new Date(Date.now() + 8000).toISOString() });
    const aborted = upstream.aborted;
    for (const s of streams) expect(s.error).toBeNull();
    for (const s of streams) expect(await within(s.done, 15_000)).toBe(true);
    await expectCut(streams, aborted);
  });

  const ROTATE = 'mutation($input: RotateApiKeyInput!) { rotateApiKey(input: $input) { secret propagation { confirmed appliedBy expected } } }';

  it('rotation with an overlap: the old secret’s streams go on, then each proxy cuts them at the overlap’s end; the new secret’s go on', async () => {
    const { project, a, streams } = await world();
    // An overlap that outlasts the confirmed rotation and the new stream's first chunk on a loaded machine.
    const r = await cp.gql(ROTATE, { input: { id: a.apiKey.id, overlapSeconds: 6 } });
    expect(r.errors).toBeUndefined();
    const fresh = await openStream(ports[0]!, project.slug, 'chat', (r.data as any).rotateApiKey.secret);
    const aborted = upstream.aborted;
    for (const s of streams) expect(s.error).toBeNull();
    for (const s of streams) expect(await within(s.done, 15_000)).toBe(true);
    await expectCut(streams, aborted);
    await expectGoingOn(fresh);
  });

  it('rotation with overlap 0: the old secret’s streams are cut by the time the rotation is confirmed', async () => {
    const { a, streams } = await world();
    const aborted = upstream.aborted;
    await mutate(ROTATE, { id: a.apiKey.id, overlapSeconds: 0 }, 'rotateApiKey', 2);
    await expectCut(streams, aborted);
  });

  it('a slow non-streaming response is aborted', async () => {
    const project = await createProject(cp);
    const a = await createKey(cp, project.id, 'key-a');
    const d = await createDeployment(cp, project.id, 'chat', { upstreamUrl: `http://127.0.0.1:${upstream.port}`, authEnabled: true, apiKeyIds: [a.apiKey.id] });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`http://127.0.0.1:${ports[0]}/${project.slug}/chat/v1/chat/completions`, { method: 'POST', headers: { 'x-api-key': a.secret, 'content-type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }));
    });
    expect(res.statusCode).toBe(200);
    const ended = new Promise<string>((resolve) => {
      res.on('error', () => resolve('aborted'));
      res.on('aborted', () => resolve('aborted'));
      res.on('end', () => resolve(res.complete ? 'complete' : 'aborted'));
    });
    res.resume();
    const aborted = upstream.aborted;
    await mutate(UNLINK, { apiKeyId: a.apiKey.id, deploymentId: d.id }, 'unlinkApiKey', 1);
    expect(await ended).toBe('aborted');
    for (let i = 0; i < 100 && upstream.aborted === aborted; i++) await sleep(50);
    expect(upstream.aborted).toBe(aborted + 1);
  });
});
