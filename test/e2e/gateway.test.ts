// End to end: real control planes and proxies on the real Postgres (and Redis), a real upstream.
// A change made through GraphQL must hold on the very next proxied request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockUpstream, type MockUpstream } from '../../src/dev/mock-upstream.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { DeleteApiKey, LinkApiKey, SetDeploymentAuth, UnlinkApiKey, UpdateApiKey } from '../helpers/operations.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';

let upstream: MockUpstream;
const dbs: TestDatabase[] = [];
const started: TestKeygate[] = [];

beforeAll(async () => {
  upstream = createMockUpstream({ host: '127.0.0.1', port: 0 });
  await upstream.start();
});
afterAll(async () => {
  for (const kg of started.reverse()) await kg.stop();
  await upstream?.stop();
  for (const db of dbs) await db.drop();
});

async function chat(proxyPort: number, project: string, deployment: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${proxyPort}/${project}/${deployment}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('keygate start: one process, in-process feed', () => {
  it('follows the Gcore flow: 401 without a key, 200 with it, 401 on the next request after unlinking', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const kg = await startTestKeygate({ env: { DATABASE_URL: db.url } });
    started.push(kg);
    const proxyPort = kg.running.proxy!.port;

    const project = await createProject(kg);
    const key = await createKey(kg, project.id, 'my-app');
    const deployment = await createDeployment(kg, project.id, 'demo', { upstreamUrl: `http://127.0.0.1:${upstream.port}` });

    // Auth off: everything passes.
    expect((await chat(proxyPort, project.slug, 'demo')).status).toBe(200);

    const on = await kg.gql(SetDeploymentAuth, { input: { deploymentId: deployment.id, enabled: true, apiKeyIds: [key.apiKey.id] } });
    expect(on.data?.setDeploymentAuth.propagation).toMatchObject({ confirmed: true, expected: 1, appliedBy: 1 });

    const missing = await chat(proxyPort, project.slug, 'demo');
    expect(missing).toEqual({ status: 401, body: { error: expect.objectContaining({ code: 'missing_api_key' }) } });
    const ok = await chat(proxyPort, project.slug, 'demo', { 'x-api-key': key.secret });
    expect(ok.status).toBe(200);
    expect(ok.body.choices[0].message.content).toBeTypeOf('string');
    expect((await chat(proxyPort, project.slug, 'demo', { authorization: `Bearer ${key.secret}` })).status).toBe(200);

    const unlinked = await kg.gql(UnlinkApiKey, { input: { deploymentId: deployment.id, apiKeyId: key.apiKey.id } });
    expect(unlinked.data?.unlinkApiKey.propagation.confirmed).toBe(true);
    expect((await chat(proxyPort, project.slug, 'demo', { 'x-api-key': key.secret })).body.error.code).toBe('invalid_api_key');

    await kg.gql(LinkApiKey, { input: { deploymentId: deployment.id, apiKeyId: key.apiKey.id } });
    expect((await chat(proxyPort, project.slug, 'demo', { 'x-api-key': key.secret })).status).toBe(200);

    // Expiring the key (in the past is refused, so shorten it to now + 2 s: the request may take a
    // while to be read on a loaded machine) and deleting it both lock it out.
    const expiresAt = Date.now() + 2000;
    const shortened = await kg.gql(UpdateApiKey, { input: { id: key.apiKey.id, expiresAt: new Date(expiresAt).toISOString() } });
    expect(shortened.errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 200));
    expect((await chat(proxyPort, project.slug, 'demo', { 'x-api-key': key.secret })).status).toBe(401);
    await kg.gql(UpdateApiKey, { input: { id: key.apiKey.id, expiresAt: null } });
    expect((await chat(proxyPort, project.slug, 'demo', { 'x-api-key': key.secret })).status).toBe(200);
    await kg.gql(DeleteApiKey, { input: { id: key.apiKey.id, force: true } });
    expect((await chat(proxyPort, project.slug, 'demo', { 'x-api-key': key.secret })).status).toBe(401);

    // lastUsedAt arrives in a batch from the proxy, not with the request.
    const used = await createKey(kg, project.id, 'used-key');
    const unused = await createKey(kg, project.id, 'unused-key');
    await kg.gql(LinkApiKey, { input: { deploymentId: deployment.id, apiKeyId: used.apiKey.id } });
    await kg.gql(LinkApiKey, { input: { deploymentId: deployment.id, apiKeyId: unused.apiKey.id } });
    for (let i = 0; i < 20; i++) expect((await chat(proxyPort, project.slug, 'demo', { 'x-api-key': used.secret })).status).toBe(200);
    const lastUsed = async (id: string) =>
      ((await kg.gql(`query($id: ID!) { node(id: $id) { ... on ApiKey { lastUsedAt } } }`, { id })).data?.node as { lastUsedAt: string | null }).lastUsedAt;
    let seen: string | null = null;
    for (let i = 0; i < 80 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 150));
      seen = await lastUsed(used.apiKey.id);
    }
    expect(seen).not.toBeNull();
    expect(await lastUsed(unused.apiKey.id)).toBeNull();
  }, 60_000);
});

describe('replicas on Redis: two control planes, two proxies', () => {
  it('200 link/unlink rounds, alternating control planes: every mutation confirmed, zero stale decisions', async () => {
    // Each of the 200 confirmations may take a loaded machine's pause: the timeout is room for it, not what is measured.
    const db = await createTestDatabase();
    dbs.push(db);
    const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kge2e')}:`, KEYGATE_PROPAGATION_TIMEOUT_MS: '10000', LOG_LEVEL: 'warn' };
    const cp1 = await startTestKeygate({ env, mode: 'control-plane' });
    const cp2 = await startTestKeygate({ env, mode: 'control-plane' });
    const px1 = await startTestKeygate({ env, mode: 'proxy' });
    const px2 = await startTestKeygate({ env, mode: 'proxy' });
    started.push(cp1, cp2, px1, px2);
    const proxies = [px1.running.proxy!.port, px2.running.proxy!.port];

    const project = await createProject(cp1);
    const key = await createKey(cp1, project.id, 'churn-key');
    const deployment = await createDeployment(cp1, project.id, 'churn', {
      upstreamUrl: `http://127.0.0.1:${upstream.port}`,
      authEnabled: true,
    });
    let stale = 0;
    let unconfirmed = 0;
    for (let round = 0; round < 200; round++) {
      const cp = round % 2 === 0 ? cp1 : cp2;
      const link = round % 4 < 2;
      const r = link
        ? (await cp.gql(LinkApiKey, { input: { deploymentId: deployment.id, apiKeyId: key.apiKey.id } })).data?.linkApiKey
        : (await cp.gql(UnlinkApiKey, { input: { deploymentId: deployment.id, apiKeyId: key.apiKey.id } })).data?.unlinkApiKey;
      if (!r?.propagation.confirmed || r.propagation.expected !== 2) unconfirmed++;
      for (const port of proxies) {
        const { status } = await chat(port, project.slug, 'churn', { 'x-api-key': key.secret });
        if (status !== (link ? 200 : 401)) stale++;
      }
    }
    expect({ stale, unconfirmed }).toEqual({ stale: 0, unconfirmed: 0 });
  }, 120_000);
});
