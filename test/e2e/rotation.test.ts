// Key rotation end to end: one control plane and two proxies on Postgres and Redis, a real
// upstream. The previous secret works on every proxy during the overlap and gets 401 on the very
// next request after it ends (the proxy's own clock, no sweeper); with no overlap it stops on the
// next request after the mutation returns. The secret is in no event, log or metric.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockUpstream, type MockUpstream } from '../../src/dev/mock-upstream.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';
import { sse } from '../subscriptions/helpers.ts';

let upstream: MockUpstream;
let db: TestDatabase;
let cp: TestKeygate;
let proxies: TestKeygate[];
const secrets: string[] = [];

beforeAll(async () => {
  upstream = createMockUpstream({ host: '127.0.0.1', port: 0 });
  await upstream.start();
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgrot')}:`, KEYGATE_PROPAGATION_TIMEOUT_MS: '5000' };
  cp = await startTestKeygate({ env, mode: 'control-plane' });
  proxies = [await startTestKeygate({ env, mode: 'proxy' }), await startTestKeygate({ env, mode: 'proxy' })];
}, 60_000);
afterAll(async () => {
  for (const px of proxies ?? []) await px.stop();
  await cp?.stop();
  await upstream?.stop();
  await db?.drop();
});

const ROTATE = `mutation($input: RotateApiKeyInput!) {
  rotateApiKey(input: $input) {
    secret
    apiKey { id name description prefix previousPrefix previousSecretExpiresAt expiresAt deployments { name } }
    propagation { confirmed appliedBy expected }
  }
}`;

interface Rotated {
  secret: string;
  apiKey: { id: string; name: string; description: string | null; prefix: string; previousPrefix: string | null; previousSecretExpiresAt: string | null; expiresAt: string | null; deployments: { name: string }[] };
  propagation: { confirmed: boolean; appliedBy: number; expected: number };
}

async function rotate(id: string, overlapSeconds?: number): Promise<Rotated> {
  const r = await cp.gql<{ rotateApiKey: Rotated }>(ROTATE, { input: { id, overlapSeconds } });
  if (!r.data) throw new Error(`rotateApiKey failed: ${JSON.stringify(r.errors)}`);
  secrets.push(r.data.rotateApiKey.secret);
  return r.data.rotateApiKey;
}

/** The status of one request with `secret` through each proxy, in order. */
async function statuses(slug: string, deployment: string, secret: string): Promise<number[]> {
  const out: number[] = [];
  for (const px of proxies) {
    const res = await fetch(`http://127.0.0.1:${px.running.proxy!.port}/${slug}/${deployment}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

async function setup(name: string) {
  const project = await createProject(cp);
  const key = await createKey(cp, project.id, `${name}-key`, { description: 'rotated in tests', expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
  secrets.push(key.secret);
  await createDeployment(cp, project.id, name, { upstreamUrl: `http://127.0.0.1:${upstream.port}`, authEnabled: true, apiKeyIds: [key.apiKey.id] });
  expect(await statuses(project.slug, name, key.secret)).toEqual([200, 200]);
  return { project, key };
}

const rejectedTotal = async (reason: string) => {
  let sum = 0;
  for (const px of proxies) {
    const text = await (await fetch(`http://127.0.0.1:${px.running.proxy!.statusPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`keygate_proxy_refusals_total{reason="${reason}"}`));
    sum += Number(line?.split(' ').at(-1) ?? 0);
  }
  return sum;
};

describe('rotateApiKey', () => {
  it('with an overlap: both secrets open the deployment on both proxies, then the old one gets 401 on the next request after the end', async () => {
    const { project, key } = await setup('overlap');
    // The overlap starts when the rotation commits: it must outlast the confirmation and the four
    // requests below on a loaded machine.
    const rotated = await rotate(key.apiKey.id, 10);
    expect(rotated.propagation).toMatchObject({ confirmed: true, appliedBy: 2, expected: 2 });
    // Same key: id, name, description, expiry and links stay.
    expect(rotated.apiKey).toMatchObject({
      id: key.apiKey.id,
      name: key.apiKey.name,
      description: 'rotated in tests',
      expiresAt: key.apiKey.expiresAt,
      previousPrefix: key.apiKey.prefix,
      deployments: [{ name: 'overlap' }],
    });
    expect(rotated.secret).not.toBe(key.secret);
    expect(rotated.apiKey.prefix).toBe(rotated.secret.slice(0, rotated.apiKey.prefix.length));
    const end = Date.parse(rotated.apiKey.previousSecretExpiresAt!);
    expect(end).toBeGreaterThan(Date.now());

    expect(await statuses(project.slug, 'overlap', key.secret)).toEqual([200, 200]);
    expect(await statuses(project.slug, 'overlap', rotated.secret)).toEqual([200, 200]);

    const rotatedOutBefore = await rejectedTotal('rotated_out');
    // The first request after the end: no event or sweeper is involved, only each proxy's clock.
    await new Promise((r) => setTimeout(r, Math.max(0, end - Date.now()) + 20));
    expect(await statuses(project.slug, 'overlap', key.secret)).toEqual([401, 401]);
    expect(await statuses(project.slug, 'overlap', rotated.secret)).toEqual([200, 200]);
    expect(await rejectedTotal('rotated_out')).toBe(rotatedOutBefore + 2);

    const after = await cp.gql(`query($id: ID!) { node(id: $id) { ... on ApiKey { prefix previousPrefix previousSecretExpiresAt } } }`, { id: key.apiKey.id });
    expect(after.data?.node).toEqual({ prefix: rotated.apiKey.prefix, previousPrefix: null, previousSecretExpiresAt: null });
  }, 60_000);

  it('without an overlap: the old secret gets 401 on the next request after the mutation returns, on every proxy', async () => {
    const { project, key } = await setup('no-overlap');
    const rotated = await rotate(key.apiKey.id);
    expect(rotated.propagation).toMatchObject({ confirmed: true, appliedBy: 2, expected: 2 });
    expect(rotated.apiKey).toMatchObject({ previousPrefix: null, previousSecretExpiresAt: null, deployments: [{ name: 'no-overlap' }] });
    expect(await statuses(project.slug, 'no-overlap', key.secret)).toEqual([401, 401]);
    expect(await statuses(project.slug, 'no-overlap', rotated.secret)).toEqual([200, 200]);
  }, 60_000);

  it('rotating again during an overlap ends the earlier one at once: at most two working secrets', async () => {
    const { project, key } = await setup('twice');
    const first = await rotate(key.apiKey.id, 3600);
    const second = await rotate(key.apiKey.id, 3600);
    expect(second.apiKey.previousPrefix).toBe(first.apiKey.prefix);
    expect(await statuses(project.slug, 'twice', key.secret)).toEqual([401, 401]);
    expect(await statuses(project.slug, 'twice', first.secret)).toEqual([200, 200]);
    expect(await statuses(project.slug, 'twice', second.secret)).toEqual([200, 200]);
    // A third rotation without overlap leaves exactly one.
    const third = await rotate(key.apiKey.id, 0);
    for (const old of [key.secret, first.secret, second.secret]) expect(await statuses(project.slug, 'twice', old)).toEqual([401, 401]);
    expect(await statuses(project.slug, 'twice', third.secret)).toEqual([200, 200]);
  }, 60_000);

  it('refuses an overlap outside 0–2,592,000 seconds and an unknown key, changing nothing', async () => {
    const { project, key } = await setup('bad-input');
    for (const overlapSeconds of [-1, 2_592_001]) {
      const r = await cp.gql(ROTATE, { input: { id: key.apiKey.id, overlapSeconds } });
      expect([errorCode(r), errorField(r)]).toEqual(['BAD_USER_INPUT', 'overlapSeconds']);
    }
    const ok = await cp.gql(ROTATE, { input: { id: key.apiKey.id, overlapSeconds: 2_592_000 } });
    expect(ok.data?.rotateApiKey.apiKey.previousPrefix).toBe(key.apiKey.prefix);
    secrets.push(ok.data?.rotateApiKey.secret);
    const unknown = await cp.gql(ROTATE, { input: { id: Buffer.from('ApiKey:00000000-0000-7000-8000-000000000000').toString('base64') } });
    expect(errorCode(unknown)).toBe('NOT_FOUND');
    expect(await statuses(project.slug, 'bad-input', key.secret)).toEqual([200, 200]);
  }, 60_000);

  it('no secret or hash is in an event, a log line or a metric', async () => {
    const { project, key } = await setup('leaks');
    await rotate(key.apiKey.id, 600);
    await rotate(key.apiKey.id, 0);
    // Every event of the project, replayed over SSE, with every field the API offers.
    const stream = await sse(
      cp.url,
      `subscription($p: ID!) { projectEvents(projectId: $p, afterRevision: 0) {
        type revision at actor projectId apiKeyId deploymentId
        apiKey { id name description prefix previousPrefix previousSecretExpiresAt expiresAt expired expiresSoon createdAt lastUsedAt }
        deployment { id name model upstreamUrl authEnabled endpointUrl } } }`,
      { p: project.id },
    );
    try {
      const deadline = Date.now() + 10_000;
      while (stream.events.filter((e) => e.data?.data?.projectEvents?.type === 'API_KEY_ROTATED').length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const events = JSON.stringify(stream.events);
      expect(events).toContain('API_KEY_ROTATED');
      const trail = JSON.stringify(
        (await cp.gql(`query($s: String!) { project(slug: $s) { events(first: 100) { edges { node { type actor apiKey { prefix previousPrefix } } } } } }`, { s: project.slug })).data,
      );
      expect(trail).toContain('API_KEY_ROTATED');
      const metrics = [
        await (await fetch(`${cp.url.replace(/\/graphql$/, '')}/metrics`)).text(),
        ...(await Promise.all(proxies.map(async (px) => (await fetch(`http://127.0.0.1:${px.running.proxy!.statusPort}/metrics`)).text()))),
      ].join('\n');
      const logs = [cp, ...proxies].flatMap((kg) => kg.logs).join('\n');
      expect(logs.length).toBeGreaterThan(0);
      for (const secret of secrets) {
        const hash = createHash('sha256').update(secret).digest('hex');
        for (const [where, text] of Object.entries({ events, trail, metrics, logs })) {
          expect(text.includes(secret), `a secret in ${where}`).toBe(false);
          expect(text.includes(hash), `a hash in ${where}`).toBe(false);
        }
      }
    } finally {
      stream.abort();
    }
  }, 60_000);
});
