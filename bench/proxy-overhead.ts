// Proxy overhead (issue 5, items 1 and 2): the same upstream and the same load against
//   direct   — the upstream itself,
//   bare     — bench/reference-proxy.ts, the floor for a Node proxy,
//   keygate  — `keygate proxy`, the full path (routing, auth, header hygiene, metrics),
//   nginx    — proxy_pass with a keep-alive upstream pool, one worker,
// interleaved round by round (the order rotates each round), medians reported. Closed loop (wrk,
// 64 connections) gives the maximum requests/s and the proxy process's CPU time per request;
// open loop at half the bare proxy's maximum gives latency p50/p99. Rejections: keygate (and the
// bare proxy) answering 401 to a well-formed key that is not in the table, closed loop.
import { hashSecret, issueSecret } from '../src/domain/secrets.ts';
import { seedOneDeployment, startProxyProcess } from './lib/keygate.ts';
import { cleanRuns, closedLoop, type ClosedRun, MAX_FOREIGN_SHARE, openLoop, type OpenRun, type Target } from './lib/load.ts';
import { startNginx } from './lib/nginx.ts';
import { baseEnv, cpuSeconds, CORES, ROOT, startNode } from './lib/procs.ts';
import { median } from './lib/stats.ts';
import { type GcSummary, watchGc } from './lib/gc-trace.ts';
import type { LoadRequest } from './lib/wrk.ts';

export const CHAT_BODY = JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'Say hello in one short sentence.' }], max_tokens: 32 });
export const CONNECTIONS = 64;

export interface ProxyOverheadOptions {
  quick: boolean;
  upstream: { port: number; pid: number };
  nginxBinary: string | null;
  dir: string;
  logDir: string;
  log: (line: string) => void;
}

export interface ProxyOverheadResult {
  [key: string]: number;
}

const chat = (host: string | null, key: string): LoadRequest => ({
  host,
  path: '/v1/chat/completions',
  headers: { 'Content-Type': 'application/json', 'X-API-Key': key },
  body: CHAT_BODY,
});

export async function runProxyOverhead(options: ProxyOverheadOptions): Promise<ProxyOverheadResult> {
  const { quick, upstream, dir, logDir, log } = options;
  const rounds = quick ? 1 : 3;
  const closedSeconds = quick ? 2 : 7;
  const openSeconds = quick ? 2 : 7;
  const openWarmup = 1;
  const warmSeconds = quick ? 1 : 2;

  // keygate's state through its own API: a project, a key, a guarded deployment linked to it.
  const seeded = await seedOneDeployment(`http://127.0.0.1:${upstream.port}`);
  const secret = seeded.secret;
  const wrongKey = issueSecret('kg_').secret; // well-formed, checksum valid, in no table
  // --trace-gc: one line per collection, for the pauses and the allocation per request.
  const keygate = await startProxyProcess({ name: 'keygate-proxy', databaseUrl: seeded.databaseUrl, redisPrefix: seeded.redisPrefix, cpu: CORES.proxy, logDir, nodeArgs: ['--trace-gc'] });
  const bare = startNode({
    name: 'reference-proxy',
    script: `${ROOT}/bench/reference-proxy.ts`,
    cpu: CORES.proxy,
    logDir,
    nodeArgs: ['--trace-gc'],
    env: baseEnv({ PORT: '0', UPSTREAM: `http://127.0.0.1:${upstream.port}`, KEY_HASHES: hashSecret(secret) }),
  });
  const barePort = Number((await bare.waitForLine((l) => l.startsWith('listening '), 20_000)).split(' ')[1]);
  const nginx = options.nginxBinary ? await startNginx({ binary: options.nginxBinary, upstreamPort: upstream.port, cpu: CORES.proxy, dir, logDir }) : null;

  const keygateHost = seeded.host;
  const targets: Record<string, Target> = {
    direct: { name: 'direct', port: upstream.port, requests: [chat(null, secret)], cpuSeconds: () => cpuSeconds(upstream.pid) },
    bare: { name: 'bare', port: barePort, requests: [chat(null, secret)], cpuSeconds: () => cpuSeconds(bare.pid) },
    keygate: { name: 'keygate', port: keygate.port, requests: [chat(keygateHost, secret)], cpuSeconds: () => cpuSeconds(keygate.pid) },
    keygate_reject: { name: 'keygate-reject', port: keygate.port, requests: [chat(keygateHost, wrongKey)], cpuSeconds: () => cpuSeconds(keygate.pid) },
    bare_reject: { name: 'bare-reject', port: barePort, requests: [chat(null, wrongKey)], cpuSeconds: () => cpuSeconds(bare.pid) },
  };
  if (nginx) targets.nginx = { name: 'nginx', port: nginx.port, requests: [chat(null, secret)], cpuSeconds: () => nginx.cpuSeconds() };

  // Each target answers as expected before anything is timed (keygate through path routing here:
  // fetch cannot set Host; the load uses host routing, and its warm-up checks the statuses too).
  for (const [name, t] of Object.entries(targets)) {
    const r = t.requests[0]!;
    const path = r.host ? `${seeded.pathPrefix}${r.path}` : r.path;
    const res = await fetch(`http://127.0.0.1:${t.port}${path}`, { method: 'POST', headers: r.headers, body: r.body });
    await res.arrayBuffer();
    const expected = name.endsWith('reject') ? 401 : 200;
    if (res.status !== expected) throw new Error(`${name}: expected ${expected}, got ${res.status}`);
  }

  const load = { connections: CONNECTIONS, cpu: CORES.load, dir };
  const gc = { keygate: watchGc(keygate), bare: watchGc(bare) };
  const gcRuns: Record<'keygate' | 'bare', (GcSummary & { requests: number; seconds: number })[]> = { keygate: [], bare: [] };
  /** an open-loop run with the proxy's collections recorded alongside */
  const openLoopWithGc = async (name: string, rate: number, gcOf: 'keygate' | 'bare' | null) => {
    if (gcOf) gc[gcOf].start();
    const r = await openLoop(targets[name]!, { ...load, rate, seconds: openSeconds, warmupSeconds: openWarmup, logDir });
    if (gcOf) gcRuns[gcOf].push({ ...gc[gcOf].stop(), requests: r.sent, seconds: openSeconds + openWarmup });
    return r;
  };
  const accepted = ['direct', 'bare', 'keygate', ...(nginx ? ['nginx'] : [])];
  const closedOrder = [...accepted, 'keygate_reject', 'bare_reject'];
  const closed: Record<string, ClosedRun[]> = Object.fromEntries(closedOrder.map((n) => [n, []]));
  const open: Record<string, OpenRun[]> = Object.fromEntries(accepted.map((n) => [n, []]));

  log(`  warm-up: ${warmSeconds} s closed loop per target`);
  for (const name of closedOrder) {
    const w = await closedLoop(targets[name]!, { ...load, seconds: warmSeconds });
    const rejecting = name.endsWith('reject');
    if (!rejecting && w.statusErrors > 0) throw new Error(`${name}: ${w.statusErrors} of ${w.requests} requests answered ≥ 400 during the warm-up`);
    if (rejecting && w.statusErrors !== w.requests) throw new Error(`${name}: expected only 401s, got ${w.requests - w.statusErrors} accepted`);
  }

  let rate = 0;
  // Also at half keygate's own maximum, a load it can carry, next to direct at that rate, with
  // keygate's garbage collections recorded (the bare proxy's at its own fixed rate).
  let ownRate = 0;
  const own: Record<string, OpenRun[]> = { direct: [], keygate: [] };
  for (let round = 0; round < rounds; round++) {
    const rotate = <T>(list: T[]) => list.map((_, i) => list[(i + round) % list.length]!);
    for (const name of rotate(closedOrder)) {
      const r = await closedLoop(targets[name]!, { ...load, seconds: closedSeconds });
      closed[name]!.push(r);
      log(`  round ${round + 1} closed  ${name.padEnd(15)} ${Math.round(r.rps).toString().padStart(6)} req/s  ${r.cpuUsPerReq.toFixed(1).padStart(6)} µs CPU/req  p99 ${r.p99Ms.toFixed(2)} ms  others on the proxy core ${(r.foreignShare * 100).toFixed(0)}%${r.socketErrors ? `  socket errors ${r.socketErrors}` : ''}`);
    }
    // Fixed rate: half the bare proxy's maximum, set once from the first round for every round.
    if (round === 0) rate = Math.max(100, Math.round(closed.bare![0]!.rps / 2 / 100) * 100);
    for (const name of rotate(accepted)) {
      const r = await openLoopWithGc(name, rate, name === 'bare' ? 'bare' : null);
      open[name]!.push(r);
      log(`  round ${round + 1} fixed   ${name.padEnd(15)} ${rate} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  p99.9 ${r.p999Ms.toFixed(2)} ms  errors ${r.errors}  others on the proxy core ${(r.foreignShare * 100).toFixed(0)}%`);
    }
    if (round === 0) ownRate = Math.max(100, Math.round(closed.keygate![0]!.rps / 2 / 100) * 100);
    for (const name of ['keygate', 'direct']) {
      const r = await openLoopWithGc(name, ownRate, name === 'keygate' ? 'keygate' : null);
      own[name]!.push(r);
      log(`  round ${round + 1} fixed   ${name.padEnd(15)} ${ownRate} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  p99.9 ${r.p999Ms.toFixed(2)} ms  errors ${r.errors}  others on the proxy core ${(r.foreignShare * 100).toFixed(0)}%`);
    }
  }

  // Medians over the runs the machine left alone (see cleanRuns), all runs when none was.
  const m = (runs: { [k: string]: number }[] | undefined, field: string) =>
    runs && runs.length ? median(cleanRuns(runs as unknown as { foreignShare: number }[]).map((r) => (r as unknown as { [k: string]: number })[field]!)) : 0;
  const c = (name: string, field: keyof ClosedRun) => m(closed[name] as unknown as { [k: string]: number }[], field);
  const o = (name: string, field: keyof OpenRun) => m(open[name] as unknown as { [k: string]: number }[], field);
  // a/b within each round; rounds where both runs were left alone when there are any.
  const perRound = (a: string, b: string, field: keyof ClosedRun) => {
    const pairs = (closed[a] ?? []).map((r, i) => [r, closed[b]?.[i]] as const).filter((p): p is readonly [ClosedRun, ClosedRun] => p[1] !== undefined);
    const clean = pairs.filter(([x, y]) => x.foreignShare <= MAX_FOREIGN_SHARE && y.foreignShare <= MAX_FOREIGN_SHARE);
    const use = clean.length > 0 ? clean : pairs;
    return use.length ? median(use.map(([x, y]) => ratio(x[field] as number, y[field] as number))) : 0;
  };
  const res: ProxyOverheadResult = {
    direct_rps: c('direct', 'rps'),
    bare_node_rps: c('bare', 'rps'),
    keygate_rps: c('keygate', 'rps'),
    nginx_rps: c('nginx', 'rps'),
    bare_node_cpu_us_per_req: c('bare', 'cpuUsPerReq'),
    keygate_cpu_us_per_req: c('keygate', 'cpuUsPerReq'),
    nginx_cpu_us_per_req: c('nginx', 'cpuUsPerReq'),
    direct_p99_ms: o('direct', 'p99Ms'),
    keygate_p99_ms: o('keygate', 'p99Ms'),
    reject_rps: c('keygate_reject', 'rps'),
    // extras
    fixed_rate_rps: rate,
    rounds,
    connections: CONNECTIONS,
    closed_loop_seconds: closedSeconds,
    open_loop_seconds: openSeconds,
    direct_p50_ms: o('direct', 'p50Ms'),
    bare_node_p50_ms: o('bare', 'p50Ms'),
    keygate_p50_ms: o('keygate', 'p50Ms'),
    nginx_p50_ms: o('nginx', 'p50Ms'),
    bare_node_p99_ms: o('bare', 'p99Ms'),
    nginx_p99_ms: o('nginx', 'p99Ms'),
    keygate_p99_added_ms: o('keygate', 'p99Ms') - o('direct', 'p99Ms'),
    // issue 18: p99 added over direct at half keygate's own maximum, within each round, median
    p99_added_half_load_ms: median(own.keygate!.map((k, i) => k.p99Ms - (own.direct![i]?.p99Ms ?? 0))),
    ...gcFigures('keygate_half_load', gcRuns.keygate),
    ...gcFigures('bare_node_fixed_rate', gcRuns.bare),
    keygate_p999_ms: o('keygate', 'p999Ms'),
    keygate_half_own_max_rps: ownRate,
    keygate_p50_at_half_own_max_ms: m(own.keygate as unknown as { [k: string]: number }[], 'p50Ms'),
    keygate_p99_at_half_own_max_ms: m(own.keygate as unknown as { [k: string]: number }[], 'p99Ms'),
    direct_p99_at_half_keygate_max_ms: m(own.direct as unknown as { [k: string]: number }[], 'p99Ms'),
    direct_p999_ms: o('direct', 'p999Ms'),
    open_loop_errors: accepted.reduce((sum, n) => sum + open[n]!.reduce((s, r) => s + r.errors, 0), 0),
    upstream_cpu_us_per_req: c('direct', 'cpuUsPerReq'),
    keygate_fixed_rate_cpu_us_per_req: o('keygate', 'cpuUsPerReq'),
    bare_node_fixed_rate_cpu_us_per_req: o('bare', 'cpuUsPerReq'),
    reject_cpu_us_per_req: c('keygate_reject', 'cpuUsPerReq'),
    bare_node_reject_rps: c('bare_reject', 'rps'),
    bare_node_reject_cpu_us_per_req: c('bare_reject', 'cpuUsPerReq'),
    keygate_vs_bare_rps: ratio(c('keygate', 'rps'), c('bare', 'rps')),
    keygate_vs_bare_cpu: ratio(c('keygate', 'cpuUsPerReq'), c('bare', 'cpuUsPerReq')),
    keygate_vs_nginx_rps: ratio(c('keygate', 'rps'), c('nginx', 'rps')),
    keygate_vs_nginx_cpu: ratio(c('keygate', 'cpuUsPerReq'), c('nginx', 'cpuUsPerReq')),
    reject_vs_accepted_rps: ratio(c('keygate_reject', 'rps'), c('keygate', 'rps')),
    // the same ratios taken within each round (runs minutes apart see different machine load), median over rounds
    keygate_vs_bare_rps_median_of_rounds: perRound('keygate', 'bare', 'rps'),
    keygate_vs_bare_cpu_median_of_rounds: perRound('keygate', 'bare', 'cpuUsPerReq'),
    keygate_vs_nginx_cpu_median_of_rounds: perRound('keygate', 'nginx', 'cpuUsPerReq'),
    proxy_core_used_by_others_pct: 100 * median(Object.values(closed).flat().map((r) => r.foreignShare)),
    runs_left_out_for_interference: [...Object.values(closed), ...Object.values(open), ...Object.values(own)].reduce(
      (sum, runs) => sum + (runs.length - cleanRuns(runs as { foreignShare: number }[]).length),
      0,
    ),
    accepted_status_errors: accepted.reduce((sum, n) => sum + closed[n]!.reduce((s, r) => s + r.statusErrors, 0), 0),
  };

  await keygate.stop();
  await bare.stop();
  await nginx?.stop('SIGQUIT');
  return res;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

/** A proxy's collections over its open-loop runs: per request and per second, medians of runs. */
function gcFigures(prefix: string, runs: (GcSummary & { requests: number; seconds: number })[]): Record<string, number> {
  const m = (f: (r: GcSummary & { requests: number; seconds: number }) => number) => (runs.length ? median(runs.map(f)) : 0);
  return {
    [`${prefix}_alloc_kb_per_req`]: m((r) => (r.requests > 0 ? (r.allocatedMb * 1024) / r.requests : 0)),
    [`${prefix}_gc_per_s`]: m((r) => r.collections / r.seconds),
    [`${prefix}_gc_full`]: m((r) => r.fullCollections),
    [`${prefix}_gc_pause_p99_ms`]: m((r) => r.pauseP99Ms),
    [`${prefix}_gc_pause_max_ms`]: m((r) => r.pauseMaxMs),
    [`${prefix}_gc_pause_ms_per_s`]: m((r) => r.pauseTotalMs / r.seconds),
  };
}
