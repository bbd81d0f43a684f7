// Usage metering (issue 12):
//  - cpu_ratio_vs_off: proxy CPU per request with metering on ÷ off. Two `keygate proxy` processes
//    on the same database, one with KEYGATE_USAGE_METERING=false, pinned to the same core; wrk
//    against each in turn, the order rotating each round, for a JSON chat completion and for an SSE
//    stream (bench/upstream.ts /stream: usage in the last event). The ratio is taken within each
//    round, the median over rounds (at least 5) per kind, and the larger of JSON and SSE reported.
//  - flush_p99_ms and rows_per_day: the flusher's write (statements/usage.ts addUsage) for 1,000
//    active keys × 10 deployments, i.e. 10,000 (key, deployment) rows per minute, one flush per
//    simulated minute; rows per day from the rows those minutes left (MINUTE rows per minute ×
//    1,440 + HOUR rows per hour × 24 + DAY rows).
//  - tap_ns_per_*: the usage tap's CPU per response in this process (lib/usage-tap-cost.ts).
//  - query_30d_hourly_p95_ms: ApiKey.usage(granularity: HOUR) over 30 days for a key with 30 days
//    of hourly data on 10 deployments (720 buckets), through GraphQL on a control plane in this
//    process, in a table that also holds the rows above.
import { randomUUID } from 'node:crypto';
import { createSqlPool, type Sql } from '../src/db/sql.ts';
import { addUsage } from '../src/db/statements/usage.ts';
import type { UsageRow } from '../src/usage/aggregator.ts';
import { CreateApiKey, CreateDeployment, CreateProject } from '../test/helpers/operations.ts';
import { CHAT_BODY, CONNECTIONS } from './proxy-overhead.ts';
import { freshDatabase, freshRedisPrefix, gql, startInProcess, startProxyProcess } from './lib/keygate.ts';
import { cleanRuns, closedLoop, type ClosedRun, MAX_FOREIGN_SHARE, type Target } from './lib/load.ts';
import { CORES, cpuSeconds } from './lib/procs.ts';
import { median, percentile, ratio } from './lib/stats.ts';
import { usageTapCost } from './lib/usage-tap-cost.ts';

export interface UsageBenchOptions {
  quick: boolean;
  upstreamPort: number;
  dir: string;
  logDir: string;
  log: (line: string) => void;
}

const KEYS = 1000;
const DEPLOYMENTS = 10;
const MINUTE = 60_000;
const HOUR = 3_600_000;

export async function runUsage(options: UsageBenchOptions): Promise<Record<string, number>> {
  const db = await freshDatabase();
  const prefix = freshRedisPrefix();
  const cp = await startInProcess('control-plane', db.url, prefix);
  const pool = createSqlPool(db.url);
  try {
    const cpu = await measureCpu({ ...options, databaseUrl: db.url, redisPrefix: prefix, controlPlaneUrl: cp.url });
    const store = await measureStore({ ...options, sql: pool, controlPlaneUrl: cp.url });
    const tap = usageTapCost();
    options.log(`  usage tap CPU per response: JSON ${tap.tap_ns_per_json_response!.toFixed(0)} ns, SSE (6 events) ${tap.tap_ns_per_sse_response!.toFixed(0)} ns, 40-chunk stream ${tap.tap_ns_per_40_chunk_stream!.toFixed(0)} ns`);
    return { ...cpu, ...store, ...tap };
  } finally {
    await pool.close();
    await cp.stop();
  }
}

async function measureCpu(o: UsageBenchOptions & { databaseUrl: string; redisPrefix: string; controlPlaneUrl: string }) {
  const project = (await gql(o.controlPlaneUrl, CreateProject, { slug: 'usage-bench', name: 'usage-bench' })).createProject.project;
  const key = (await gql(o.controlPlaneUrl, CreateApiKey, { input: { projectId: project.id, name: 'usage-bench-key' } })).createApiKey;
  await gql(o.controlPlaneUrl, CreateDeployment, {
    input: { projectId: project.id, name: 'chat', model: 'llama-3-8b', upstreamUrl: `http://127.0.0.1:${o.upstreamPort}`, authEnabled: true, apiKeyIds: [key.apiKey.id] },
  });
  const on = await startProxyProcess({ name: 'usage-proxy-on', databaseUrl: o.databaseUrl, redisPrefix: o.redisPrefix, cpu: CORES.proxy, logDir: o.logDir });
  const off = await startProxyProcess({ name: 'usage-proxy-off', databaseUrl: o.databaseUrl, redisPrefix: o.redisPrefix, cpu: CORES.proxy, logDir: o.logDir, env: { KEYGATE_USAGE_METERING: 'false' } });
  const host = 'model-chat.usage-bench.localhost';
  const request = (path: string) => [{ host, path, headers: { 'Content-Type': 'application/json', 'X-API-Key': key.secret }, body: CHAT_BODY }];
  const targets: Record<string, Target> = {};
  for (const [mode, proxy] of [['on', on], ['off', off]] as const) {
    targets[`json_${mode}`] = { name: `usage-json-${mode}`, port: proxy.port, requests: request('/v1/chat/completions'), cpuSeconds: () => cpuSeconds(proxy.pid) };
    targets[`sse_${mode}`] = { name: `usage-sse-${mode}`, port: proxy.port, requests: request('/v1/stream/chat/completions'), cpuSeconds: () => cpuSeconds(proxy.pid) };
  }
  const load = { connections: CONNECTIONS, cpu: CORES.load, dir: o.dir };
  for (const [name, target] of Object.entries(targets)) {
    const w = await closedLoop(target, { ...load, seconds: 2 });
    if (w.statusErrors > 0) throw new Error(`usage ${name}: ${w.statusErrors} of ${w.requests} requests answered ≥ 400`);
  }
  const rounds = 5;
  const seconds = o.quick ? 2 : 5;
  const runs: Record<string, ClosedRun[]> = Object.fromEntries(Object.keys(targets).map((n) => [n, []]));
  const order = ['json_on', 'json_off', 'sse_off', 'sse_on'];
  for (let round = 0; round < rounds; round++) {
    for (const name of order.map((_, i) => order[(i + round) % order.length]!)) {
      const r = await closedLoop(targets[name]!, { ...load, seconds });
      runs[name]!.push(r);
      o.log(`  round ${round + 1} ${name.padEnd(8)} ${Math.round(r.rps)} req/s  ${r.cpuUsPerReq.toFixed(1)} µs CPU/req  others on the proxy core ${(r.foreignShare * 100).toFixed(0)}%`);
    }
  }
  const perRound = (kind: 'json' | 'sse') => {
    const pairs = runs[`${kind}_on`]!.map((r, i) => [r, runs[`${kind}_off`]![i]!] as const);
    const clean = pairs.filter(([a, b]) => a.foreignShare <= MAX_FOREIGN_SHARE && b.foreignShare <= MAX_FOREIGN_SHARE);
    return median((clean.length > 0 ? clean : pairs).map(([a, b]) => ratio(a.cpuUsPerReq, b.cpuUsPerReq)));
  };
  const cpuOf = (name: string) => median(cleanRuns(runs[name]!).map((r) => r.cpuUsPerReq));
  const json = perRound('json');
  const sse = perRound('sse');
  o.log(`  metering on ÷ off, CPU per request (median of ${rounds} rounds): JSON ${json.toFixed(3)}×, SSE ${sse.toFixed(3)}×`);
  await on.stop();
  await off.stop();
  return {
    cpu_ratio_vs_off: Math.max(json, sse),
    cpu_ratio_json: json,
    cpu_ratio_sse: sse,
    cpu_rounds: rounds,
    cpu_us_per_req_json_on: cpuOf('json_on'),
    cpu_us_per_req_json_off: cpuOf('json_off'),
    cpu_us_per_req_sse_on: cpuOf('sse_on'),
    cpu_us_per_req_sse_off: cpuOf('sse_off'),
    cpu_runs_left_out_for_interference: Object.values(runs).reduce((n, r) => n + r.length - cleanRuns(r).length, 0),
  };
}

/** A project with KEYS keys and DEPLOYMENTS deployments, straight in the tables. */
async function seedProject(sql: Sql) {
  const projectId = randomUUID();
  await sql.execute(`INSERT INTO projects (id, slug, name) VALUES ($1::uuid, 'usage-store', 'usage-store')`, [projectId]);
  const keyIds = Array.from({ length: KEYS }, () => randomUUID());
  const deploymentIds = Array.from({ length: DEPLOYMENTS }, () => randomUUID());
  await sql.execute(
    `INSERT INTO api_keys (id, project_id, name, prefix, hash) SELECT id, $2::uuid, 'key-' || n, 'kg_x', md5(id::text) FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
    [keyIds, projectId],
  );
  await sql.execute(
    `INSERT INTO deployments (id, project_id, name, model, upstream_url, updated_at) SELECT id, $2::uuid, 'dep-' || n, 'm', 'http://127.0.0.1:9', now() FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, n)`,
    [deploymentIds, projectId],
  );
  return { projectId, keyIds, deploymentIds };
}

const row = (minute: number, projectId: string, deploymentId: string, apiKeyId: string): UsageRow => ({
  minute,
  projectId,
  deploymentId,
  apiKeyId,
  lastUsedAt: minute + 30_000,
  requests: 12,
  errors: 0,
  rejected: 0,
  rateLimited: 0,
  promptTokens: 600,
  completionTokens: 1200,
});

async function measureStore(o: UsageBenchOptions & { sql: Sql; controlPlaneUrl: string }) {
  const { sql } = o;
  const w = await seedProject(sql);
  // Minutes inside one hour of one day, so the rows they leave split cleanly by granularity.
  const minutes = o.quick ? 6 : 12;
  const start = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
  const flushMs: number[] = [];
  for (let m = 0; m < minutes; m++) {
    const rows: UsageRow[] = [];
    for (const k of w.keyIds) for (const d of w.deploymentIds) rows.push(row(start + m * MINUTE, w.projectId, d, k));
    const t0 = performance.now();
    await addUsage(sql, rows);
    flushMs.push(performance.now() - t0);
  }
  const counts = new Map(
    (
      await sql.query<{ granularity: string; n: number }>(`SELECT granularity, count(*)::int AS n FROM usage_counts WHERE project_id = $1::uuid GROUP BY granularity`, [w.projectId])
    ).map((r) => [r.granularity, r.n]),
  );
  const rowsPerDay = ((counts.get('MINUTE') ?? 0) / minutes) * 1440 + (counts.get('HOUR') ?? 0) * 24 + (counts.get('DAY') ?? 0);
  const [size] = await sql.query<{ bytes: number }>(`SELECT pg_total_relation_size('usage_counts')::float8 AS bytes`);
  const bytesPerRow = (size?.bytes ?? 0) / Math.max(1, [...counts.values()].reduce((a, b) => a + b, 0));
  o.log(`  flush of ${KEYS * DEPLOYMENTS} (key, deployment) rows: p50 ${percentile(flushMs, 50).toFixed(0)} ms, p99 ${percentile(flushMs, 99).toFixed(0)} ms over ${minutes} flushes`);
  o.log(`  rows per day at ${KEYS} keys × ${DEPLOYMENTS} deployments, every pair active every minute: ${Math.round(rowsPerDay).toLocaleString('en-US')} (~${((rowsPerDay * bytesPerRow) / 1e9).toFixed(1)} GB/day with indexes)`);

  // 30 days of hourly data for one key on every deployment: 720 HOUR buckets.
  const key = w.keyIds[0]!;
  const now = Date.now();
  const history: UsageRow[] = [];
  for (let h = 1; h <= 30 * 24; h++) for (const d of w.deploymentIds) history.push(row(Math.floor((now - h * HOUR) / HOUR) * HOUR, w.projectId, d, key));
  for (let i = 0; i < history.length; i += 5000) await addUsage(sql, history.slice(i, i + 5000));
  await sql.execute('ANALYZE usage_counts');
  const globalKeyId = Buffer.from(`ApiKey:${key}`).toString('base64');
  const query = `query($id: ID!, $from: DateTime!) { node(id: $id) { ... on ApiKey { usage(from: $from, granularity: HOUR) { total { requests promptTokens } buckets { start requests promptTokens completionTokens } } } } }`;
  const read = async () => {
    const t0 = performance.now();
    const data = await gql<{ node: { usage: { buckets: unknown[] } } | null }, Record<string, string>>(o.controlPlaneUrl, query, { id: globalKeyId, from: new Date(now - 30 * 24 * HOUR).toISOString() });
    const ms = performance.now() - t0;
    const buckets = data.node?.usage.buckets.length ?? 0;
    if (buckets < 30 * 24) throw new Error(`the 30-day hourly series returned ${buckets} buckets, not 720`);
    return ms;
  };
  for (let i = 0; i < 3; i++) await read();
  const queryMs: number[] = [];
  for (let i = 0; i < (o.quick ? 10 : 30); i++) queryMs.push(await read());
  o.log(`  30-day hourly series of one key (720 buckets over ${DEPLOYMENTS} deployments): p50 ${percentile(queryMs, 50).toFixed(1)} ms, p95 ${percentile(queryMs, 95).toFixed(1)} ms`);
  return {
    flush_p99_ms: percentile(flushMs, 99),
    query_30d_hourly_p95_ms: percentile(queryMs, 95),
    rows_per_day: rowsPerDay,
    flush_p50_ms: percentile(flushMs, 50),
    flush_rows: KEYS * DEPLOYMENTS,
    flushes: flushMs.length,
    bytes_per_row: bytesPerRow,
    query_30d_hourly_p50_ms: percentile(queryMs, 50),
    query_runs: queryMs.length,
  };
}
