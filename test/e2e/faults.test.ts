// Faults with real processes' parts: a redis-server this test starts (and kills) on its own port,
// and a TCP relay the test owns in front of the shared Postgres.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMockUpstream, type MockUpstream } from '../../src/dev/mock-upstream.ts';
import { createRelay } from '../feed/helpers.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { errorCode, startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { LinkApiKey, UnlinkApiKey } from '../helpers/operations.ts';
import { ownRedis, type OwnRedis } from '../helpers/redis-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let upstream: MockUpstream;
let db: TestDatabase;
let redis: OwnRedis;
const started: TestKeygate[] = [];
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  upstream = createMockUpstream({ host: '127.0.0.1', port: 0 });
  await upstream.start();
  db = await createTestDatabase();
  redis = await ownRedis();
  await redis.start();
});
afterAll(async () => {
  for (const kg of started.reverse()) await kg.stop().catch(() => {});
  for (const c of closers) await c();
  await redis?.kill();
  await upstream?.stop();
  await db?.drop();
});

async function status(port: number, project: string, key: string) {
  const res = await fetch(`http://127.0.0.1:${port}/${project}/faulty/v1/models`, { headers: { 'x-api-key': key } });
  return { status: res.status, code: res.status === 200 ? null : (((await res.json()) as any).error?.code as string) };
}

async function eventually(check: () => Promise<boolean>, ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

it('survives Redis dying and Postgres becoming unreachable, then recovers', async () => {
  const pgRelay = await createRelay(new URL(db.url));
  closers.push(() => pgRelay.close());
  const relayedDb = new URL(db.url);
  relayedDb.port = new URL(pgRelay.url).port;
  const base = {
    REDIS_URL: redis.url,
    KEYGATE_REDIS_PREFIX: 'faults:',
    KEYGATE_POLL_INTERVAL_MS: '200',
    KEYGATE_MAX_STALENESS_MS: '3000',
    KEYGATE_PROXY_LEASE_MS: '900',
    KEYGATE_PROPAGATION_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'silent',
  };
  const cp = await startTestKeygate({ env: { ...base, DATABASE_URL: relayedDb.toString() }, mode: 'control-plane' });
  const px1 = await startTestKeygate({ env: { ...base, DATABASE_URL: relayedDb.toString() }, mode: 'proxy' });
  const px2 = await startTestKeygate({ env: { ...base, DATABASE_URL: relayedDb.toString() }, mode: 'proxy' });
  started.push(cp, px1, px2);
  const ports = [px1.running.proxy!.port, px2.running.proxy!.port];

  const project = await createProject(cp);
  const key = await createKey(cp, project.id, 'fault-key');
  const d = await createDeployment(cp, project.id, 'faulty', { upstreamUrl: `http://127.0.0.1:${upstream.port}`, authEnabled: true, apiKeyIds: [key.apiKey.id] });
  // A short propagation timeout (step 1 needs it): on a loaded machine the set-up's last change may
  // answer before both proxies confirmed it.
  for (const p of ports) expect(await eventually(async () => (await status(p, project.slug, key.secret)).status === 200, 5000)).toBe(true);

  // 1. Redis dies; a revocation is committed meanwhile, answered promptly but unconfirmed.
  await redis.kill();
  const t0 = Date.now();
  const revoked = await cp.gql(UnlinkApiKey, { input: { deploymentId: d.id, apiKeyId: key.apiKey.id } });
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(revoked.data?.unlinkApiKey.propagation.confirmed).toBe(false);
  // Both proxies enforce it within seconds, through the Postgres poll.
  for (const p of ports) expect(await eventually(async () => (await status(p, project.slug, key.secret)).status === 401, 5000)).toBe(true);

  // 2. Redis comes back: changes are confirmed again once the proxies renew their leases.
  await redis.start();
  expect(
    await eventually(async () => {
      const r = await cp.gql(LinkApiKey, { input: { deploymentId: d.id, apiKeyId: key.apiKey.id } });
      if (!r.data?.linkApiKey.propagation.confirmed) {
        await cp.gql(UnlinkApiKey, { input: { deploymentId: d.id, apiKeyId: key.apiKey.id } });
        return false;
      }
      return r.data.linkApiKey.propagation.expected === 2;
    }, 10_000),
  ).toBe(true);
  for (const p of ports) expect((await status(p, project.slug, key.secret)).status).toBe(200);

  // 3. Postgres unreachable: the proxies serve from memory, the control plane answers UNAVAILABLE.
  pgRelay.set('refuse');
  for (const p of ports) expect((await status(p, project.slug, key.secret)).status).toBe(200);
  const down = await cp.gql(UnlinkApiKey, { input: { deploymentId: d.id, apiKeyId: key.apiKey.id } });
  expect(errorCode(down)).toBe('UNAVAILABLE');

  // 4. Cut off from both beyond KEYGATE_MAX_STALENESS_MS: 503 feed_unavailable.
  await redis.kill();
  for (const p of ports) {
    expect(await eventually(async () => (await status(p, project.slug, key.secret)).code === 'feed_unavailable', 8000)).toBe(true);
  }

  // 5. Both back: the proxies catch up and serve again; the control plane works again.
  pgRelay.set('forward');
  await redis.start();
  for (const p of ports) expect(await eventually(async () => (await status(p, project.slug, key.secret)).status === 200, 10_000)).toBe(true);
  expect(await eventually(async () => !(await cp.gql(UnlinkApiKey, { input: { deploymentId: d.id, apiKeyId: key.apiKey.id } })).errors, 10_000)).toBe(true);
  for (const p of ports) expect(await eventually(async () => (await status(p, project.slug, key.secret)).status === 401, 5000)).toBe(true);
}, 90_000);
