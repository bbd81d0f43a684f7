// Every management command against a running keygate, on the embedded store and on Postgres +
// Redis; the embedded store's lock; busy ports; flags over variables; the admin token files.
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockUpstream, type MockUpstream } from '../../src/dev/mock-upstream.ts';
import { callModel, freePort, keygate, type KeygateProcess, startKeygateProcess } from '../helpers/cli.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase } from '../helpers/services.ts';

let upstream: MockUpstream;
let upstreamUrl: string;
const dirs: string[] = [];
const processes: KeygateProcess[] = [];
const dbs: TestDatabase[] = [];

beforeAll(async () => {
  upstream = createMockUpstream();
  upstreamUrl = `http://127.0.0.1:${(await upstream.start()).port}`;
});
afterAll(async () => {
  for (const p of processes) await p.stop('SIGKILL');
  await upstream?.stop();
  for (const db of dbs) await db.drop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keygate-cli-'));
  dirs.push(dir);
  return dir;
};

/** Runs a command that must succeed; returns its stdout. */
async function ok(args: string[], env: Record<string, string>): Promise<string> {
  const result = await keygate(args, env);
  expect(result.stderr, `keygate ${args.join(' ')}`).toBe('');
  expect(result.code, `keygate ${args.join(' ')}`).toBe(0);
  return result.stdout;
}

/** The management commands, each checked against the API's effect (the proxy's answers included). */
async function exerciseCommands(env: Record<string, string>, proxy: string) {
  const endpoint = `${proxy}/acme/demo`;

  const status = JSON.parse(await ok(['status', '--json'], env));
  expect(status).toMatchObject({ healthy: true, ready: true, liveProxies: 1, viewer: { role: 'ADMIN' } });
  expect(await ok(['status'], env)).toMatch(/ready:\s+yes[\s\S]*live proxies: 1/);

  const projectId = (await ok(['projects', 'create', 'acme', '--quiet'], env)).trim();
  expect(JSON.parse(await ok(['projects', 'list', '--json'], env))).toEqual([expect.objectContaining({ id: projectId, slug: 'acme' })]);
  expect(await ok(['projects', 'list'], env)).toMatch(/^SLUG\s+NAME[\s\S]*\nacme\s+acme\s/);

  // keys create: the secret once for people; nothing but the JSON under --json; nothing but the secret under -q.
  const human = await ok(['keys', 'create', 'my-app', '--project', 'acme'], env);
  const secret = /\n(kg_\S+)\n$/.exec(human)?.[1];
  expect(secret).toBeDefined();
  expect(human.split(secret!).length).toBe(2);
  const created = JSON.parse(await ok(['keys', 'create', 'second-key', '--project', 'acme', '--json'], env));
  expect(created).toMatchObject({ secret: expect.stringMatching(/^kg_/), apiKey: { name: 'second-key' }, propagation: { confirmed: true } });
  const secondSecret: string = created.secret;
  const thirdSecret = (await ok(['keys', 'create', 'third-key', '--project', 'acme', '-q'], env)).trim();
  expect(thirdSecret).toMatch(/^kg_\S+$/);

  const listed = JSON.parse(await ok(['keys', 'list', '--project', 'acme', '--json'], env));
  expect(listed.map((k: { name: string }) => k.name)).toEqual(['my-app', 'second-key', 'third-key']);
  expect(JSON.stringify(listed)).not.toContain(secret);
  expect(await ok(['keys', 'list', '--project', 'acme'], env)).toMatch(/^NAME\s+PREFIX[\s\S]*\nmy-app\s+kg_/);

  const endpointUrl = (
    await ok(['deployments', 'create', 'demo', '--project', 'acme', '--model', 'llama-3-8b', '--upstream', upstreamUrl, '--key', 'my-app', '-q'], env)
  ).trim();
  expect(endpointUrl).toBe(`http://model-demo.acme.localhost:${new URL(proxy).port}`);
  expect(await callModel(endpoint, secret)).toBe(200);
  expect(await callModel(endpoint)).toBe(401);
  expect(await callModel(endpoint, secondSecret)).toBe(401);
  const deployments = JSON.parse(await ok(['deployments', 'list', '--project', 'acme', '--json'], env));
  expect(deployments).toEqual([expect.objectContaining({ name: 'demo', authEnabled: true, apiKeys: [{ name: 'my-app' }] })]);
  expect(await ok(['deployments', 'list', '--project', 'acme'], env)).toMatch(/\ndemo\s+llama-3-8b\s+on\s+my-app\s/);

  // link / unlink by name, and by id; each holds on the next request.
  expect(await ok(['link', 'demo', 'second-key', '--project', 'acme'], env)).toMatch(/^linked API key second-key to deployment demo \(revision \d+, applied on 1 of 1 proxy\)/);
  expect(await callModel(endpoint, secondSecret)).toBe(200);
  const unlinked = JSON.parse(await ok(['unlink', deployments[0].id, created.apiKey.id, '--json'], env));
  expect(unlinked).toMatchObject({ deployment: { name: 'demo' }, apiKey: { name: 'second-key' }, propagation: { confirmed: true } });
  expect(await callModel(endpoint, secondSecret)).toBe(401);

  // keys rotate: a new secret printed once; --overlap keeps the old one working for a while.
  const rotated = await ok(['keys', 'rotate', 'my-app', '--project', 'acme', '--overlap', '1h'], env);
  expect(rotated).toMatch(
    /^rotated API key my-app \(id \S+, prefix kg_\S+; revision \d+, applied on 1 of 1 proxy\)\nthe previous secret \(kg_\S+…\) works until \S+\nsecret, shown once and never again:\nkg_\S+\n$/,
  );
  const overlapSecret = rotated.trim().split('\n').at(-1)!;
  expect(await callModel(endpoint, secret)).toBe(200);
  expect(await callModel(endpoint, overlapSecret)).toBe(200);
  const rotatedAgain = (await ok(['keys', 'rotate', 'my-app', '--project', 'acme', '-q'], env)).trim();
  expect(rotatedAgain).toMatch(/^kg_\S+$/);
  expect(await callModel(endpoint, rotatedAgain)).toBe(200);
  expect(await callModel(endpoint, overlapSecret)).toBe(401);
  expect(await callModel(endpoint, secret)).toBe(401);
  const badOverlap = await keygate(['keys', 'rotate', 'my-app', '--project', 'acme', '--overlap', 'soon'], env);
  expect(badOverlap.code).toBe(1);
  expect(badOverlap.stderr).toMatch(/--overlap must be a number of seconds or a duration/);

  // events: the audit trail, filtered.
  const rotations = JSON.parse(await ok(['events', '--project', 'acme', '--type', 'API_KEY_ROTATED', '--json'], env));
  expect(rotations.map((e: { type: string; apiKey: { name: string } }) => [e.type, e.apiKey.name])).toEqual([
    ['API_KEY_ROTATED', 'my-app'],
    ['API_KEY_ROTATED', 'my-app'],
  ]);
  expect(JSON.stringify(rotations)).not.toContain(rotatedAgain);
  expect(await ok(['events', '--project', 'acme', '--key', 'second-key', '--deployment', 'demo'], env)).toMatch(
    /^AT\s+TYPE\s+ACTOR\s+KEY\s+DEPLOYMENT\s+REVISION\n\S+\s+API_KEY_UNLINKED\s+\S+\s+second-key\s+demo\s+\d+\n\S+\s+API_KEY_LINKED\s+\S+\s+second-key\s+demo\s+\d+\n$/,
  );

  // keys delete: a linked key needs --force; then the proxy refuses it.
  const refused = await keygate(['keys', 'delete', 'my-app', '--project', 'acme'], env);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/CONFLICT[\s\S]*--force/);
  expect(await ok(['keys', 'delete', 'my-app', '--project', 'acme', '--force'], env)).toMatch(/^deleted API key my-app/);
  expect(await callModel(endpoint, secret)).toBe(401);
  expect(JSON.parse(await ok(['keys', 'delete', created.apiKey.id, '--json'], env))).toMatchObject({ deletedApiKeyId: created.apiKey.id });

  // token create: a project token through whatever holds the data; it reaches only its project.
  const projectToken = (await ok(['token', 'create', '--project', 'acme'], env)).trim();
  expect(projectToken).toMatch(/^kgat_/);
  const asProject = JSON.parse(await ok(['status', '--json'], { ...env, KEYGATE_TOKEN: projectToken }));
  expect(asProject.viewer).toMatchObject({ role: 'PROJECT', project: 'acme' });
  const adminToken = JSON.parse(await ok(['token', 'create', '--name', 'ci-admin', '--json'], env));
  expect(adminToken).toMatchObject({ name: 'ci-admin', project: null, token: expect.stringMatching(/^kgat_/) });
  const keysAsAdmin = JSON.parse(await ok(['keys', 'list', '--project', 'acme', '--json'], { ...env, KEYGATE_TOKEN: adminToken.token }));
  expect(keysAsAdmin.map((k: { name: string }) => k.name)).toEqual(['third-key']);

  // Mistakes are one line naming what to fix.
  const noProject = await keygate(['keys', 'list', '--project', 'nope'], env);
  expect(noProject).toMatchObject({ code: 1, stdout: '', stderr: 'keygate: no project with slug "nope" (or it is outside this token\'s reach)\n' });
  const badToken = await keygate(['projects', 'list'], { ...env, KEYGATE_TOKEN: 'kgat_wrong' });
  expect(badToken.code).toBe(1);
  expect(badToken.stderr).toMatch(/refused the access token/);
}

describe('keygate commands on the embedded store', { timeout: 600_000 }, () => {
  it('runs every command, locks the data directory, and recovers a killed lock', async () => {
    const dataDir = await tempDir();
    const [port, proxyPort] = [await freePort(), await freePort()];
    // The variables point at a port that is taken: the flags must win.
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as { port: number }).port;
    const variables = { KEYGATE_PORT: String(takenPort), KEYGATE_PROXY_PORT: String(takenPort), KEYGATE_DATA_DIR: join(dataDir, 'unused') };
    const server = await startKeygateProcess(['start', '--port', String(port), '--proxy-port', String(proxyPort), '--data-dir', dataDir], {
      ...variables,
      LOG_LEVEL: 'warn',
    });
    processes.push(server);
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect(await readdir(dataDir)).toEqual(expect.arrayContaining(['admin-token', 'keygate.lock', 'pgdata']));

    // A second keygate on the same directory stops at once, naming the lock.
    const second = await keygate(['start', '--port', '0', '--proxy-port', '0'], { KEYGATE_DATA_DIR: dataDir });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`lock: ${join(dataDir, 'keygate.lock')}`);
    expect(second.stderr).toContain(`process ${server.pid}`);

    taken.close();

    await exerciseCommands({ KEYGATE_PORT: String(port), KEYGATE_DATA_DIR: dataDir }, server.proxy!);

    // Killed: its lock stays behind, and neither a direct command nor the next start is blocked by it.
    expect(await server.stop('SIGKILL')).toBeNull();
    expect(await readdir(dataDir)).toContain('keygate.lock');
    const direct = await keygate(['token', 'create', '--name', 'offline-token'], { KEYGATE_DATA_DIR: dataDir });
    expect(direct.code, direct.stderr).toBe(0);
    const restarted = await startKeygateProcess(['start', '--port', '0', '--proxy-port', '0', '--data-dir', dataDir], { LOG_LEVEL: 'warn' });
    processes.push(restarted);
    const asOffline = JSON.parse(await ok(['status', '--json'], { KEYGATE_URL: restarted.url!, KEYGATE_TOKEN: direct.stdout.trim() }));
    expect(asOffline.viewer).toMatchObject({ role: 'ADMIN', tokenName: 'offline-token' });
    expect(await restarted.stop()).toBe(0);
    expect(await readdir(dataDir)).not.toContain('keygate.lock');
  });
});

describe('keygate commands on Postgres and Redis', { timeout: 600_000 }, () => {
  it('runs every command, names busy ports; a start on Postgres leaves the embedded store\'s admin token alone', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const dataDir = await tempDir();
    const embeddedToken = 'kgat_the-embedded-stores-own-token';
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dataDir, 'admin-token'), `${embeddedToken}\n`, { mode: 0o600 });
    const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `kgcli${Date.now()}:`, KEYGATE_DATA_DIR: dataDir };

    const [port, proxyPort] = [await freePort(), await freePort()];
    const server = await startKeygateProcess(['start'], { ...env, KEYGATE_PORT: String(port), KEYGATE_PROXY_PORT: String(proxyPort), LOG_LEVEL: 'warn' });
    processes.push(server);
    // Busy ports name the flag and the variable.
    const busyProxy = await keygate(['start', '--port', '0'], { ...env, KEYGATE_PROXY_PORT: String(proxyPort) });
    expect(busyProxy.code).toBe(1);
    expect(busyProxy.stderr).toMatch(new RegExp(`port ${proxyPort} .*already in use.*--proxy-port or KEYGATE_PROXY_PORT`));
    const busyControlPlane = await keygate(['start', '--proxy-port', '0'], { ...env, KEYGATE_PORT: String(port) });
    expect(busyControlPlane.code).toBe(1);
    expect(busyControlPlane.stderr).toMatch(new RegExp(`port ${port} .*already in use.*--port or KEYGATE_PORT`));
    expect((await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()).toBe(embeddedToken);
    const files = await readdir(dataDir);
    expect(files.filter((f) => f.startsWith('admin-token.postgres.'))).toHaveLength(1);
    expect(files).not.toContain('keygate.lock');

    // The admin-token file of this database is found by the commands; KEYGATE_URL says where.
    await exerciseCommands({ ...env, KEYGATE_URL: server.url! }, server.proxy!);

    // With DATABASE_URL and no server named, token create writes to Postgres directly.
    const direct = await keygate(['token', 'create', '--name', 'bootstrap'], { DATABASE_URL: db.url });
    expect(direct.code, direct.stderr).toBe(0);
    const asDirect = JSON.parse(await ok(['status', '--json'], { KEYGATE_URL: server.url!, KEYGATE_TOKEN: direct.stdout.trim() }));
    expect(asDirect.viewer).toMatchObject({ role: 'ADMIN', tokenName: 'bootstrap' });
    expect(await server.stop()).toBe(0);
  });

  it('names DATABASE_URL when Postgres cannot be reached', async () => {
    const port = await freePort();
    const result = await keygate(['start', '--port', '0', '--proxy-port', '0'], { DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/keygate` });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`keygate: cannot connect to Postgres at postgres@127.0.0.1:${port}/keygate (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });
});
