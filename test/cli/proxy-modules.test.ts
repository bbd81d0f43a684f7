// `keygate proxy` carries no ORM and no embedded store: a real proxy process, started by the
// keygate command against the real Postgres and Redis, runs until it is ready and serves a
// request, and every module it loaded is recorded by a preload (test/helpers/record-loaded-modules.mjs).
// The control plane, recorded the same way, shows the recorder sees Prisma where it is loaded.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForReadiness } from '../helpers/keygate.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase, uniqueName } from '../helpers/services.ts';

const BIN = new URL('../../bin/keygate.mjs', import.meta.url).pathname;
const RECORDER = new URL('../helpers/record-loaded-modules.mjs', import.meta.url).pathname;
/** Prisma's client and runtime, its generated client, its driver adapters, and PGlite. */
const ORM_OR_EMBEDDED = /@prisma\/|\/\.prisma\/|\/generated\/prisma\/|@electric-sql\/pglite|pglite-prisma-adapter/;

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), 'keygate-modules-'));
});
afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `keygate <mode>` until `ready` resolves, stops it with SIGTERM, and answers the modules it loaded. */
async function loadedModules(mode: 'proxy' | 'control-plane', ready: (output: string) => Promise<boolean>): Promise<string[]> {
  const record = join(dir, `${mode}.txt`);
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: db.url,
    REDIS_URL,
    KEYGATE_REDIS_PREFIX: uniqueName('modules'),
    KEYGATE_PORT: '0',
    KEYGATE_PROXY_PORT: '0',
    KEYGATE_ADMIN_TOKEN: 'test-admin-token-0123456789',
    LOG_LEVEL: 'warn',
    KEYGATE_TEST_LOADED_MODULES: record,
  };
  const child = spawn(process.execPath, ['--import', RECORDER, BIN, mode], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const end = Date.now() + 30_000;
    while (!(await ready(output))) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`keygate ${mode} did not become ready:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  return (await readFile(record, 'utf8')).split('\n').filter(Boolean);
}

describe('the modules a keygate process loads', () => {
  it('a proxy process, ready and answering, loads neither Prisma nor PGlite', async () => {
    const modules = await loadedModules('proxy', async (output) => {
      const port = /Proxy:\s+http:\/\/[^:]+:(\d+)/.exec(output)?.[1];
      if (!port) return false;
      await waitForReadiness(Number(port));
      // A request through the proxy path: an unknown deployment is a 404 from the proxy itself.
      const res = await fetch(`http://127.0.0.1:${port}/nobody/nothing/v1/models`);
      expect(res.status).toBe(404);
      return true;
    });
    // The recorder saw the proxy's own modules and its drivers, so an empty match below means something.
    expect(modules.some((url) => url.endsWith('/src/server/proxy-mode.ts'))).toBe(true);
    expect(modules.some((url) => url.endsWith('/src/proxy/proxy-server.ts'))).toBe(true);
    expect(modules.some((url) => url.includes('/node_modules/pg/'))).toBe(true);
    expect(modules.filter((url) => ORM_OR_EMBEDDED.test(url))).toEqual([]);
  }, 60_000);

  it('a control-plane process does load Prisma: the recorder sees it where it is', async () => {
    const modules = await loadedModules('control-plane', async (output) => /GraphiQL:|Dashboard:/.test(output));
    expect(modules.some((url) => url.includes('/node_modules/@prisma/client/'))).toBe(true);
    expect(modules.some((url) => url.includes('/src/generated/prisma/'))).toBe(true);
  }, 60_000);
});
