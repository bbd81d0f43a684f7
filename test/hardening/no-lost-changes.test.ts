// Redis killed and restarted in the middle of 500 mutations: no change is lost. Every proxy ends
// at the head revision with a table equal to a fresh snapshot of the database.
import { sqlOfPrisma } from '../../src/db/sql.ts';
import { afterAll, expect, it } from 'vitest';
import { openPostgres } from '../../src/db/database.ts';
import { headRevision } from '../../src/db/statements/index.ts';
import { readSnapshot } from '../../src/feed/change-log.ts';
import type { Snapshot } from '../../src/feed/events.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { DeleteApiKey, LinkApiKey, SetDeploymentAuth, UnlinkApiKey, UpdateApiKey } from '../helpers/operations.ts';
import { ownRedis } from '../helpers/redis-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let db: TestDatabase;
const started: TestKeygate[] = [];
let stopRedis: () => Promise<void> = async () => {};

afterAll(async () => {
  for (const kg of started.reverse()) await kg.stop().catch(() => {});
  await stopRedis();
  await db?.drop();
});

it('loses no change when Redis dies and comes back during 500 mutations', async () => {
  db = await createTestDatabase();
  const redis = await ownRedis();
  stopRedis = () => redis.kill();
  await redis.start();
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    KEYGATE_POLL_INTERVAL_MS: '250',
    KEYGATE_PROXY_LEASE_MS: '900',
    KEYGATE_PROPAGATION_TIMEOUT_MS: '150',
    LOG_LEVEL: 'silent',
  };
  const cp = await startTestKeygate({ env, mode: 'control-plane' });
  const proxies = [await startTestKeygate({ env, mode: 'proxy' }), await startTestKeygate({ env, mode: 'proxy' })];
  started.push(cp, ...proxies);

  const project = await createProject(cp);
  const keys = [];
  for (let i = 0; i < 6; i++) keys.push((await createKey(cp, project.id, `churn-key-${i}`)).apiKey.id);
  const deployments = [];
  for (let i = 0; i < 3; i++) deployments.push((await createDeployment(cp, project.id, `churn-${i}`, { authEnabled: true })).id);

  let failed = 0;
  for (let i = 0; i < 500; i++) {
    if (i === 150) await redis.kill();
    if (i === 320) await redis.start();
    const d = deployments[i % 3]!;
    const k = keys[(i * 7) % keys.length]!;
    const op = i % 10;
    const r =
      op < 4
        ? await cp.gql(LinkApiKey, { input: { deploymentId: d, apiKeyId: k } })
        : op < 7
          ? await cp.gql(UnlinkApiKey, { input: { deploymentId: d, apiKeyId: k } })
          : op < 8
            ? await cp.gql(SetDeploymentAuth, { input: { deploymentId: d, enabled: i % 20 < 10, apiKeyIds: keys.slice(0, (i % 5) + 1) } })
            : op < 9
              ? await cp.gql(UpdateApiKey, { input: { id: k, expiresAt: i % 2 ? null : new Date(Date.now() + 3_600_000 + i).toISOString() } })
              : await (async () => {
                  // Replace a key: delete it (forcing unlinks) and create a fresh one in its place.
                  const del = await cp.gql(DeleteApiKey, { input: { id: k, force: true } });
                  keys[keys.indexOf(k)] = (await createKey(cp, project.id, `churn-key-r${i}`)).apiKey.id;
                  return del;
                })();
    if (r.errors) failed++;
  }
  expect(failed).toBe(0);

  const check = await openPostgres(db.url);
  try {
    const canonical = (s: Snapshot) => ({
      revision: s.revision,
      apiKeys: [...s.apiKeys].sort((a, b) => a.id.localeCompare(b.id)),
      deployments: [...s.deployments].map((d) => ({ ...d, apiKeyIds: [...d.apiKeyIds].sort() })).sort((a, b) => a.id.localeCompare(b.id)),
    });
    // The expiry sweeper may still record changes of its own (API_KEY_EXPIRING for the keys given an
    // expiry inside the warning window): compare at a revision every proxy and the database share.
    let truth: Snapshot | null = null;
    for (let attempt = 0; attempt < 50 && truth === null; attempt++) {
      const head = await headRevision(sqlOfPrisma(check.prisma));
      expect(head).toBeGreaterThan(450);
      for (const p of proxies) {
        const table = p.running.proxy!.table;
        for (let i = 0; i < 100 && table.revision < head; i++) await new Promise((r) => setTimeout(r, 100));
      }
      const read = await readSnapshot(sqlOfPrisma(check.prisma));
      if (proxies.every((p) => p.running.proxy!.table.revision === read.revision)) truth = read;
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(truth).not.toBeNull();
    for (const p of proxies) expect(canonical(p.running.proxy!.table.toSnapshot())).toEqual(canonical(truth!));
  } finally {
    await check.close();
  }
}, 180_000);
