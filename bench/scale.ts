// Scale (issue 5 item 4, issue 18 item 3): 1,000,000 keys, 100,000 deployments and 2,000,000 links
// (--quick: a tenth) written with COPY straight into a fresh database (bench/lib/seed-scale.ts):
// 1,000 keys and 100 deployments a project, each key linked to two of its project's deployments.
//
//  - snapshot load and memory: `keygate proxy` on that database, from its "proxy listening" log
//    line to "proxy ready" (consumer start: subscribe, snapshot read, table build, first lease),
//    and its RSS once ready;
//  - memory growth over link/unlink changes written straight into the change log and published
//    (100,000; --quick 10,000): RSS before, after half, after all;
//  - CPU per request against that table vs a 10-key table (another database: 1 project, 10 keys,
//    10 deployments), both proxies pinned to the same core, wrk rotating over 1,000 (key,
//    deployment) pairs of the big table and the 10 pairs of the small one, interleaved rounds;
//  - the 1,000-key GraphQL list (bench/lib/list-1000.ts; on its own with a small seed:
//    bench/list.ts) against a control plane in this process: p95 of N runs after a change (read
//    and executed) and of N repeats with nothing changed (the response cache's answer), and the
//    SQL statements Prisma sent for one run (its onQuery hook, as test/helpers/keygate.ts counts).
import { CHAT_BODY, CONNECTIONS } from './proxy-overhead.ts';
import { freshDatabase, freshRedisPrefix, parseLog, REDIS_URL, startInProcess, startProxyProcess, type KeygateProcess } from './lib/keygate.ts';
import { measureList } from './lib/list-1000.ts';
import { type Seeded, seedScale, type Shape, writeChanges } from './lib/seed-scale.ts';
import { cleanRuns, closedLoop, type ClosedRun, type Target } from './lib/load.ts';
import { CORES, cpuSeconds, memoryMb, sleep, waitUntil } from './lib/procs.ts';
import { median, percentile } from './lib/stats.ts';
import type { LoadRequest } from './lib/wrk.ts';

export interface ScaleOptions {
  quick: boolean;
  upstreamPort: number;
  dir: string;
  logDir: string;
  log: (line: string) => void;
}

const requestsFor = (pairs: Seeded['pairs']): LoadRequest[] =>
  pairs.map((p) => ({ host: p.host, path: '/v1/chat/completions', headers: { 'Content-Type': 'application/json', 'X-API-Key': p.secret }, body: CHAT_BODY }));

/** "proxy listening" → "proxy ready" from the proxy's own log timestamps. */
function snapshotLoadMs(proxy: KeygateProcess): number {
  const at = (msg: string) => proxy.lines.map(parseLog).find((l) => l?.msg === msg)?.time;
  const listening = at('proxy listening');
  const ready = at('proxy ready');
  return listening !== undefined && ready !== undefined ? ready - listening : 0;
}

export async function runScale(options: ScaleOptions): Promise<Record<string, number>> {
  const { quick, upstreamPort, dir, logDir, log } = options;
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  // 1,000 keys and 100 deployments a project: 1,000,000 keys, 100,000 deployments, 2,000,000 links
  // (--quick: a tenth).
  const shape: Shape = { projects: quick ? 100 : 1000, keysPerProject: 1000, deploymentsPerProject: 100 };
  const changes = quick ? 10_000 : 100_000;

  let t = performance.now();
  const bigDb = await freshDatabase();
  const big = await seedScale(bigDb.url, shape, upstreamUrl, 1000);
  const seedSeconds = (performance.now() - t) / 1000;
  log(`  seeded ${big.keys} keys, ${big.deployments} deployments, ${big.links} links in ${seedSeconds.toFixed(1)} s`);
  const smallDb = await freshDatabase();
  const small = await seedScale(smallDb.url, { projects: 1, keysPerProject: 10, deploymentsPerProject: 10 }, upstreamUrl, 10);

  const prefix = freshRedisPrefix();
  t = performance.now();
  const bigProxy = await startProxyProcess({ name: 'scale-proxy-big', databaseUrl: bigDb.url, redisPrefix: prefix, cpu: CORES.proxy, logDir, readyTimeoutMs: 180_000 });
  const bigStartMs = performance.now() - t;
  const loadMs = snapshotLoadMs(bigProxy);
  const memReady = memoryMb(bigProxy.pid);
  log(`  ${big.keys}-key proxy: snapshot ${loadMs} ms (process start to ready ${Math.round(bigStartMs)} ms), RSS ${memReady.rss.toFixed(0)} MB`);
  t = performance.now();
  const smallProxy = await startProxyProcess({ name: 'scale-proxy-10', databaseUrl: smallDb.url, redisPrefix: freshRedisPrefix(), cpu: CORES.proxy, logDir });
  const smallStartMs = performance.now() - t;
  const memSmall = memoryMb(smallProxy.pid);

  const targets: Record<string, Target> = {
    small: { name: 'scale-small', port: smallProxy.port, requests: requestsFor(small.pairs), cpuSeconds: () => cpuSeconds(smallProxy.pid) },
    big: { name: 'scale-big', port: bigProxy.port, requests: requestsFor(big.pairs), cpuSeconds: () => cpuSeconds(bigProxy.pid) },
    // The big table with the small one's traffic shape (10 pairs): tells the table's size from
    // the spread of the traffic over 1,000 keys and deployments.
    big10: { name: 'scale-big-10', port: bigProxy.port, requests: requestsFor(big.pairs.slice(0, 10)), cpuSeconds: () => cpuSeconds(bigProxy.pid) },
  };
  const load = { connections: CONNECTIONS, cpu: CORES.load, dir };
  const rounds = quick ? 1 : 5;
  const seconds = quick ? 2 : 4;
  const order = quick ? ['small', 'big'] : ['small', 'big', 'big10'];
  for (const [name, target] of Object.entries(targets)) {
    if (!order.includes(name)) continue;
    const w = await closedLoop(target, { ...load, seconds: quick ? 1 : 2 });
    if (w.statusErrors > 0) throw new Error(`scale ${name}: ${w.statusErrors} of ${w.requests} requests answered ≥ 400`);
  }
  const runs: Record<string, ClosedRun[]> = { small: [], big: [], big10: [] };
  const ratios: { ratio: number; foreignShare: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const name of order.map((_, i) => order[(i + round) % order.length]!)) {
      const r = await closedLoop(targets[name]!, { ...load, seconds });
      runs[name]!.push(r);
      log(`  round ${round + 1} ${name.padEnd(5)} ${Math.round(r.rps)} req/s  ${r.cpuUsPerReq.toFixed(1)} µs CPU/req  others on the proxy core ${(r.foreignShare * 100).toFixed(0)}%`);
    }
    const [b, sm] = [runs.big![round]!, runs.small![round]!];
    ratios.push({ ratio: b.cpuUsPerReq / sm.cpuUsPerReq, foreignShare: Math.max(b.foreignShare, sm.foreignShare) });
  }
  // Medians over the runs the machine left alone (see cleanRuns), all runs when none was.
  const cpuOf = (name: string) => median(cleanRuns(runs[name]!).map((r) => r.cpuUsPerReq));
  const cpuSmall = cpuOf('small');
  const cpuBig = cpuOf('big');
  const memAfter = memoryMb(bigProxy.pid);

  // Memory over link/unlink changes written straight into the change log and published: RSS
  // after half of them and after all (the table ends as it started).
  const appliedUpTo = async (revision: number) =>
    waitUntil(`the proxy applying revision ${revision}`, async () => {
      const res = await fetch(`http://127.0.0.1:${bigProxy.port}/-/readyz`);
      return ((await res.json()) as { revision?: number }).revision! >= revision;
    }, 300_000, 100);
  const rssSettled = async () => {
    await sleep(2000);
    return memoryMb(bigProxy.pid).rss;
  };
  const rssBeforeChanges = await rssSettled();
  t = performance.now();
  await appliedUpTo(await writeChanges(bigDb.url, REDIS_URL, prefix, big.sample, upstreamUrl, changes / 2));
  const rssHalfChanges = await rssSettled();
  await appliedUpTo(await writeChanges(bigDb.url, REDIS_URL, prefix, big.sample, upstreamUrl, changes / 2));
  const changesSeconds = (performance.now() - t) / 1000 - 2;
  const rssAfterChanges = await rssSettled();
  log(`  ${changes} link/unlink changes through the log and the feed in ${changesSeconds.toFixed(1)} s: RSS ${rssBeforeChanges.toFixed(0)} → ${rssHalfChanges.toFixed(0)} → ${rssAfterChanges.toFixed(0)} MB`);
  await bigProxy.stop();
  await smallProxy.stop();

  // The 1,000-key list, against a control plane in this process so its SQL can be counted.
  const cp = await startInProcess('control-plane', bigDb.url, freshRedisPrefix());
  const listRuns = quick ? 10 : 20;
  const { uncached, repeated, statements, headReads } = await measureList(cp, big.firstProjectSlug, listRuns);
  await cp.stop();
  log(
    `  1,000-key list after a change: p95 ${percentile(uncached.ms, 95).toFixed(1)} ms (p50 ${percentile(uncached.ms, 50).toFixed(1)}), ` +
      `repeated: p95 ${percentile(repeated.ms, 95).toFixed(1)} ms (p50 ${percentile(repeated.ms, 50).toFixed(1)}), over ${listRuns} runs each; ` +
      `${statements.length} SQL statements and ${headReads} head read`,
  );
  for (const q of statements) log(`    SQL: ${q.replace(/\s+/g, ' ').slice(0, 160)}`);

  return {
    keys: big.keys,
    deployments: big.deployments,
    links: big.links,
    snapshot_load_ms: loadMs,
    rss_mb: memReady.rss,
    cpu_ratio_vs_small: cpuSmall > 0 ? cpuBig / cpuSmall : 0,
    // After a change: read and executed, not answered from the response cache.
    list_1000_p95_ms: percentile(uncached.ms, 95),
    list_1000_sql_queries: statements.length,
    growth_mb_100k_changes: rssAfterChanges - rssBeforeChanges,
    // extras
    changes,
    growth_mb_second_half: rssAfterChanges - rssHalfChanges,
    changes_seconds: changesSeconds,
    seed_seconds: seedSeconds,
    proxy_start_to_ready_ms: bigStartMs,
    small_proxy_start_to_ready_ms: smallStartMs,
    small_snapshot_load_ms: snapshotLoadMs(smallProxy),
    rss_peak_mb: memAfter.peak,
    rss_after_load_mb: memAfter.rss,
    small_rss_mb: memSmall.rss,
    cpu_us_per_req_100k: cpuBig,
    cpu_us_per_req_10: cpuSmall,
    cpu_us_per_req_100k_10_pairs: cpuOf('big10'),
    cpu_ratio_vs_small_median_of_rounds: median(cleanRuns(ratios).map((r) => r.ratio)),
    cpu_runs_left_out_for_interference: Object.values(runs).reduce((sum, r) => sum + r.length - cleanRuns(r).length, 0),
    cpu_rounds: rounds,
    proxy_core_used_by_others_pct: 100 * median(Object.values(runs).flat().map((r) => r.foreignShare)),
    rps_100k: median(cleanRuns(runs.big!).map((r) => r.rps)),
    rps_10: median(cleanRuns(runs.small!).map((r) => r.rps)),
    list_1000_p50_ms: percentile(uncached.ms, 50),
    list_1000_cpu_ms: uncached.cpuMsPerRun,
    // The same list again with nothing changed: the response cache's answer.
    list_1000_repeated_p95_ms: percentile(repeated.ms, 95),
    list_1000_repeated_p50_ms: percentile(repeated.ms, 50),
    list_1000_repeated_cpu_ms: repeated.cpuMsPerRun,
    list_1000_head_reads: headReads,
    list_1000_runs: listRuns,
  };
}
