// A proxy process SIGKILLed while changes happen, then restarted: its stale lease stops
// counting after the TTL, and once it answers ready it already enforces the latest state.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMockUpstream, type MockUpstream } from '../../src/dev/mock-upstream.ts';
import { freePort } from '../helpers/cli.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { LinkApiKey, UnlinkApiKey } from '../helpers/operations.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';

const BIN = new URL('../../bin/keygate.mjs', import.meta.url).pathname;
let upstream: MockUpstream;
let db: TestDatabase;
let cp: TestKeygate;
const children: ChildProcess[] = [];

beforeAll(async () => {
  upstream = createMockUpstream({ host: '127.0.0.1', port: 0 });
  await upstream.start();
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await cp?.stop();
  await upstream?.stop();
  await db?.drop();
});

function spawnProxy(env: Record<string, string>, port: number): ChildProcess {
  const child = spawn(process.execPath, [BIN, 'proxy'], {
    env: { PATH: process.env.PATH ?? '', ...env, KEYGATE_PROXY_PORT: String(port), KEYGATE_STATUS_PORT: '0', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

async function readyz(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/-/readyz`).catch(() => null))?.status ?? 0;
}

it('a restarted proxy is not ready until current, then serves the latest state', async () => {
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    KEYGATE_REDIS_PREFIX: `${uniqueName('kgrestart')}:`,
    // Long enough that the dead proxy's lease is surely still live for the first change after the
    // kill (renewed every third of it), on a loaded machine.
    KEYGATE_PROXY_LEASE_MS: '3000',
    KEYGATE_PROPAGATION_TIMEOUT_MS: '500',
  };
  cp = await startTestKeygate({ env: { ...env, LOG_LEVEL: 'warn' }, mode: 'control-plane' });
  // One port for both lives of the proxy: the OS's free one, not a random pick that may be taken.
  const port = await freePort();
  let proxy = spawnProxy(env, port);
  for (let i = 0; i < 200 && (await readyz(port)) !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await readyz(port)).toBe(200);

  const project = await createProject(cp);
  const key = await createKey(cp, project.id, 'restart-key');
  const d = await createDeployment(cp, project.id, 'faulty', { upstreamUrl: `http://127.0.0.1:${upstream.port}`, authEnabled: true });
  const call = async () =>
    (await fetch(`http://127.0.0.1:${port}/${project.slug}/faulty/v1/models`, { headers: { 'x-api-key': key.secret } }).catch(() => null))?.status ?? 0;
  expect(await call()).toBe(401);

  proxy.kill('SIGKILL');
  await new Promise((r) => proxy.once('exit', r));
  // Its lease is still live: the change commits but cannot be confirmed by the dead proxy.
  const whileDead = await cp.gql(LinkApiKey, { input: { deploymentId: d.id, apiKeyId: key.apiKey.id } });
  expect(whileDead.data?.linkApiKey.propagation).toMatchObject({ confirmed: false, expected: 1, appliedBy: 0 });
  await new Promise((r) => setTimeout(r, 3300)); // past the lease TTL
  const afterTtl = await cp.gql(UnlinkApiKey, { input: { deploymentId: d.id, apiKeyId: key.apiKey.id } });
  expect(afterTtl.data?.unlinkApiKey.propagation).toMatchObject({ confirmed: true, expected: 0 });
  const latest = await cp.gql(LinkApiKey, { input: { deploymentId: d.id, apiKeyId: key.apiKey.id } });
  expect(latest.errors).toBeUndefined();

  proxy = spawnProxy(env, port);
  const seen: number[] = [];
  for (let i = 0; i < 300; i++) {
    const ready = await readyz(port);
    if (ready !== 0) seen.push(ready);
    if (ready === 200) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(seen.at(-1)).toBe(200);
  expect(seen.every((s) => s === 200 || s === 503)).toBe(true);
  // The first request after ready already sees the latest link.
  expect(await call()).toBe(200);
  const confirmed = await cp.gql(UnlinkApiKey, { input: { deploymentId: d.id, apiKeyId: key.apiKey.id } });
  expect(confirmed.data?.unlinkApiKey.propagation).toMatchObject({ confirmed: true, expected: 1, appliedBy: 1 });
  expect(await call()).toBe(401);
}, 60_000);
