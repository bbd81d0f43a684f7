// The keygate command as a user runs it: real processes, the real Postgres.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { readMigrations } from '../../src/db/migrations.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/keygate.mjs', import.meta.url).pathname;
const cleanEnv = (extra: Record<string, string>) => {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  return { ...env, ...extra };
};
const keygate = (args: string[], env: Record<string, string>) => run(process.execPath, [BIN, ...args], { env: cleanEnv(env) });

const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const db of dbs) await db.drop();
});

describe('keygate migrate', () => {
  it('migrates an empty database, and a second run changes nothing', async () => {
    const db = await createTestDatabase({ migrated: false });
    dbs.push(db);
    const first = await keygate(['migrate'], { DATABASE_URL: db.url });
    expect(first.stdout).toMatch(/applied: \d+_init/);
    const second = await keygate(['migrate'], { DATABASE_URL: db.url });
    expect(second.stdout).toContain('up to date');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query('SELECT migration_name, finished_at IS NOT NULL AS done, applied_steps_count FROM _prisma_migrations ORDER BY migration_name');
      // Every committed migration, each once.
      const committed = (await readMigrations()).map((m) => ({ migration_name: m.name, done: true, applied_steps_count: 1 }));
      expect(committed[0]?.migration_name).toMatch(/_init$/);
      expect(rows).toEqual(committed);
      expect((await c.query('SELECT revision FROM feed_state')).rows).toEqual([{ revision: 0 }]);
    } finally {
      await c.end();
    }
  });

  it('control-plane refuses an unmigrated database with "run keygate migrate"', async () => {
    const db = await createTestDatabase({ migrated: false });
    dbs.push(db);
    const err = await keygate(['control-plane'], { DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:6379', KEYGATE_PORT: '0' }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain('run keygate migrate');
  });

  it('control-plane and proxy need DATABASE_URL and REDIS_URL; bad configuration lists every problem', async () => {
    for (const mode of ['control-plane', 'proxy']) {
      const err = await keygate([mode], {}).catch((e) => e);
      expect(err.code).toBe(1);
      expect(err.stderr).toContain('needs DATABASE_URL and REDIS_URL');
    }
    const bad = await keygate(['start'], { KEYGATE_PORT: 'x', LOG_LEVEL: 'chatty' }).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('KEYGATE_PORT');
    expect(bad.stderr).toContain('LOG_LEVEL');
    const redisOnly = await keygate(['start'], { REDIS_URL: 'redis://127.0.0.1:6379' }).catch((e) => e);
    expect(redisOnly.stderr).toContain('DATABASE_URL');
  });
});

describe('keygate start on the embedded store', () => {
  it('creates the admin token file (0600), keeps data across restarts, and stops on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'keygate-embedded-'));
    try {
      const env = { KEYGATE_DATA_DIR: dataDir, KEYGATE_PORT: '0', KEYGATE_PROXY_PORT: '0', LOG_LEVEL: 'warn' };
      const first = await startProcess(env);
      const tokenFile = join(dataDir, 'admin-token');
      expect(first.output).toContain(tokenFile);
      expect(((await stat(tokenFile)).mode & 0o777).toString(8)).toBe('600');
      const token = (await readFile(tokenFile, 'utf8')).trim();
      expect(first.output).not.toContain(token);
      const created = await gql(first.url, token, 'mutation { createProject(input: { slug: "persisted" }) { project { slug } } }');
      expect(created.data.createProject.project.slug).toBe('persisted');
      expect(await first.stop()).toBe(0);

      const second = await startProcess(env);
      expect((await readFile(tokenFile, 'utf8')).trim()).toBe(token);
      const read = await gql(second.url, token, '{ project(slug: "persisted") { slug } }');
      expect(read.data.project).toEqual({ slug: 'persisted' });
      expect(await second.stop()).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});

async function gql(url: string, token: string, query: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) });
  return (await res.json()) as any;
}

async function startProcess(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'start'], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keygate did not start:\n${output}`)), 150_000);
    const check = () => {
      const m = /GraphiQL:\s+(\S+)/.exec(output);
      if (m && /Admin token/.test(output)) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', check);
    child.on('exit', () => reject(new Error(`keygate exited:\n${output}`)));
  });
  return {
    url,
    get output() {
      return output;
    },
    stop: () =>
      new Promise<number | null>((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}
