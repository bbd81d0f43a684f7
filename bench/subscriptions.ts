// Delivery latency of projectEvents to many graphql-ws subscribers on one control plane.
//
//   npx tsx bench/subscriptions.ts [subscribers=1000] [rounds=5]
//
// Runs `keygate start` (control plane + proxy) in its own process on a fresh database of the
// local Postgres, with the local Redis; opens `subscribers` graphql-ws connections from this
// process, one subscription each, to one project; then makes one mutation (createApiKey) per
// round and times, for every subscriber, the arrival of its event from the moment the mutation
// was sent. The mutation itself waits for the proxy's ack (docs/architecture.md, "Change-feed protocol", step 5), so the figures
// include it. Figures go to stderr, the JSON result to stdout. A benchmark, not a test: it never
// fails on a timing.
//
// TEST_POSTGRES_URL / TEST_REDIS_URL override postgresql://postgres@127.0.0.1:5432/postgres and
// redis://127.0.0.1:6379. CPU_PROF_DIR=dir writes a CPU profile of the keygate process there.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { migratePostgres } from '../src/db/database.ts';
import { cpuSeconds } from './lib/procs.ts';

const SUBSCRIBERS = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 5);
const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const say = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const r = (v: number) => Math.round(v * 100) / 100;
  return { n: sorted.length, min: r(sorted[0] ?? NaN), p50: r(percentile(sorted, 50)), p90: r(percentile(sorted, 90)), p99: r(percentile(sorted, 99)), max: r(sorted.at(-1) ?? NaN) };
};

async function main() {
  const dbName = `keygate_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbUrl = new URL(POSTGRES_URL);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'keygate-bench-'));
  const [port, proxyPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}/graphql`;
  let child: ReturnType<typeof spawn> | null = null;
  const clients: Client[] = [];
  // Stopped from outside (bench/run.ts's time bound): keygate and the database go too, not left behind.
  process.once('SIGTERM', () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    void admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
      .catch(() => {})
      .finally(() => process.exit(143));
  });

  try {
    await admin(`CREATE DATABASE "${dbName}"`);
    await migratePostgres(dbUrl.toString());
    const profile = process.env.CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF_DIR}`] : [];
    child = spawn(process.execPath, [...profile, join(ROOT, 'bin/keygate.mjs'), 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: dbUrl.toString(),
        REDIS_URL,
        KEYGATE_REDIS_PREFIX: `${dbName}:`,
        KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN,
        KEYGATE_PORT: String(port),
        KEYGATE_PROXY_PORT: String(proxyPort),
        KEYGATE_STATUS_PORT: '0',
        KEYGATE_DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));

    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: any; errors?: unknown };
      if (!body.data) throw new Error(`GraphQL failed: ${JSON.stringify(body.errors)}`);
      return body.data;
    };
    const subscriptions = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/^keygate_subscriptions (\d+)/m.exec(text)?.[1] ?? 0);
    };

    for (let ready = false; !ready; ) {
      if (child.exitCode !== null) throw new Error(`keygate exited with ${child.exitCode}`);
      ready = (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200;
      if (!ready) await sleep(50);
    }
    const project = (await gql('mutation($s: String!) { createProject(input: { slug: $s }) { project { id } } }', { s: `bench-${randomBytes(3).toString('hex')}` })).createProject.project.id;

    // revision -> arrival times (ms, performance.now()) of every subscriber
    const arrivals = new Map<number, number[]>();
    let connected = 0;
    const opened = performance.now();
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const client = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {},
        on: { connected: () => connected++ },
      });
      clients.push(client);
      client.subscribe<{ projectEvents: { revision: number } }>(
        { query: 'subscription($p: ID!) { projectEvents(projectId: $p) { type revision apiKey { name } } }', variables: { p: project } },
        {
          next: (r) => {
            const at = performance.now();
            const revision = r.data?.projectEvents.revision;
            if (revision === undefined) return;
            let list = arrivals.get(revision);
            if (!list) arrivals.set(revision, (list = []));
            list.push(at);
          },
          error: (e) => say(`subscriber ${i}: ${JSON.stringify(e)}`),
          complete: () => {},
        },
      );
      if (i % 100 === 99) await sleep(10); // let the handshakes through
    }
    for (const end = Date.now() + 60_000; (await subscriptions()) < SUBSCRIBERS; ) {
      if (Date.now() > end) throw new Error(`only ${await subscriptions()} of ${SUBSCRIBERS} subscriptions after 60 s`);
      await sleep(50);
    }
    say(`${SUBSCRIBERS} subscribers on ${connected} connections in ${Math.round(performance.now() - opened)} ms`);

    const round = async (name: string) => {
      const elu = performance.eventLoopUtilization();
      const serverCpu = cpuSeconds(child!.pid!);
      const sent = performance.now();
      const data = await gql('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { propagation { revision confirmed } } }', {
        i: { projectId: project, name },
      });
      const answered = performance.now() - sent;
      const revision: number = data.createApiKey.propagation.revision;
      for (const end = Date.now() + 30_000; (arrivals.get(revision)?.length ?? 0) < SUBSCRIBERS; ) {
        if (Date.now() > end) throw new Error(`round ${name}: ${arrivals.get(revision)?.length ?? 0} of ${SUBSCRIBERS} deliveries after 30 s`);
        await sleep(5);
      }
      const latencies = arrivals.get(revision)!.map((t) => t - sent);
      // How busy this process (the clients) was until the last arrival: near 1, the measuring side
      // itself holds deliveries back.
      const clientBusy = Math.round(performance.eventLoopUtilization(elu).utilization * 100) / 100;
      // keygate's own CPU time for the round (mutation, proxy ack, fan-out), in 10 ms ticks.
      const serverCpuMs = Math.round((cpuSeconds(child!.pid!) - serverCpu) * 1000);
      return { revision, mutationMs: Math.round(answered * 100) / 100, confirmed: data.createApiKey.propagation.confirmed as boolean, delivery: summary(latencies), clientBusy, serverCpuMs, latencies };
    };

    await round('warm-up-key');
    const rounds = [];
    for (let i = 0; i < ROUNDS; i++) {
      await sleep(200);
      rounds.push(await round(`bench-key-${i}`));
    }
    const all = summary(rounds.flatMap((r) => r.latencies));
    for (const r of rounds) {
      say(`revision ${r.revision}: mutation answered in ${r.mutationMs} ms; delivered to ${r.delivery.n}: p50 ${r.delivery.p50} ms, p99 ${r.delivery.p99} ms, max ${r.delivery.max} ms; keygate CPU ${r.serverCpuMs} ms, clients busy ${Math.round(r.clientBusy * 100)}%`);
    }
    say(`all ${ROUNDS} rounds: p50 ${all.p50} ms, p99 ${all.p99} ms (from sending the mutation to the event arriving at each of ${SUBSCRIBERS} subscribers)`);

    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'subscriptions',
          subscribers: SUBSCRIBERS,
          rounds: ROUNDS,
          transport: 'graphql-ws, one connection per subscriber, clients in one process',
          server: 'keygate start (control plane + proxy), local Postgres and Redis',
          cpus: availableParallelism(),
          node: process.version,
          deliveryMs: all,
          perRound: rounds.map(({ latencies: _l, ...r }) => r),
        },
        null,
        2,
      )}\n`,
    );

    for (const c of clients) await c.dispose();
    for (const end = Date.now() + 10_000; (await subscriptions()) > 0 && Date.now() < end; ) await sleep(50);
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    say(`bench failed: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  },
);
