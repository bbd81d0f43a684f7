// Streams (issue 18, item 1): model traffic as it behaves, many long SSE responses at once. One mock
// upstream (bench/sse-upstream.ts: the first chunk after 50 ms, then 4 chunks a second, 40 chunks)
// and 1,000 concurrent streams through
//   direct   — the upstream itself,
//   bare     — bench/reference-proxy.ts, the floor for a Node proxy,
//   nginx    — proxy_pass, one worker (the upstream sends X-Accel-Buffering: no, as streaming
//              servers do, so nginx passes each event on at once),
//   keygate  — `keygate proxy`, the full path,
// side by side in one run, the order rotating each round. The generator (bench/lib/stream-load.ts)
// and the upstream share one core, each proxy has the other to itself. Per target: time to first
// token p99, inter-chunk gap p99, the proxy's CPU per chunk (utime+stime over the run / chunks
// delivered), its RSS per open stream (peak RSS during the first full run − RSS before it, / open
// streams) and its capacity: stepping the number of open streams up, the last step at which its
// TTFB p99 and its gap p99 (between chunks arriving once every stream was open) both stay within
// 10 ms of direct's at the same step. On two shared cores the generator limits the absolute
// figures, so the targets compare keygate with the bare proxy measured in the same run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashSecret } from '../src/domain/secrets.ts';
import { seedOneDeployment, startProxyProcess } from './lib/keygate.ts';
import { startNginx } from './lib/nginx.ts';
import { baseEnv, CORES, coreBusySeconds, cpuSeconds, ROOT, sleep, startNode, treeCpuSeconds, treeRssMb } from './lib/procs.ts';
import { median, ratio } from './lib/stats.ts';
import type { StreamLoadConfig, StreamLoadResult } from './lib/stream-load.ts';

export interface StreamsOptions {
  quick: boolean;
  nginxBinary: string | null;
  dir: string;
  logDir: string;
  log: (line: string) => void;
}

const STREAMS = 1000;
const FIRST_MS = 50;
const INTERVAL_MS = 250;
/** how far above direct's p99 a proxy may be at a step and still count as holding it */
const CAPACITY_SLACK_MS = 10;

interface StreamTarget {
  name: string;
  port: number;
  host: string;
  headers: Record<string, string>;
  /** the process(es) whose CPU and memory are measured */
  cpuSeconds(): number;
  rssMb(): number;
}

interface StreamRun extends StreamLoadResult {
  cpuUsPerChunk: number;
  /** peak RSS during the run − RSS before it, per open stream */
  rssKbPerStream: number;
  /** share of the proxy core other processes used during the run (0–1) */
  foreignShare: number;
}

const body = (chunks: number) => JSON.stringify({ model: 'llama-3-8b', stream: true, max_tokens: chunks, messages: [{ role: 'user', content: 'Tell me a story.' }] });

let runs = 0;

/** One generator run against one target, its CPU and memory sampled alongside. */
async function streamRun(target: StreamTarget, load: { streams: number; chunks: number; rampMs: number; steadyOnly: boolean }, dir: string, logDir: string): Promise<StreamRun> {
  const config: StreamLoadConfig = {
    port: target.port,
    host: target.host,
    path: '/v1/chat/completions',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...target.headers },
    body: body(load.chunks),
    streams: load.streams,
    rampMs: load.rampMs,
    chunks: load.chunks,
    steadyOnly: load.steadyOnly,
    timeoutMs: FIRST_MS + load.chunks * INTERVAL_MS + 30_000,
  };
  const file = join(dir, `streams-${target.name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const rssBefore = target.rssMb();
  const cpuBefore = target.cpuSeconds();
  const busyBefore = coreBusySeconds(CORES.proxy);
  const startedAt = performance.now();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    try {
      rssPeak = Math.max(rssPeak, target.rssMb());
    } catch {
      // the process is gone: the run reports errors
    }
  }, 200);
  const child = startNode({ name: `stream-load-${target.name}-${++runs}`, script: join(ROOT, 'bench/lib/stream-load.ts'), args: [file], cpu: CORES.load, env: baseEnv(), logDir });
  try {
    const line = await child.waitForLine((l) => l.startsWith('STREAM_JSON '), load.rampMs + config.timeoutMs + 30_000);
    const cpu = target.cpuSeconds() - cpuBefore;
    const busy = coreBusySeconds(CORES.proxy) - busyBefore;
    const wall = (performance.now() - startedAt) / 1000;
    const result = JSON.parse(line.slice('STREAM_JSON '.length)) as StreamLoadResult;
    return {
      ...result,
      cpuUsPerChunk: result.chunks > 0 ? (cpu / result.chunks) * 1e6 : 0,
      rssKbPerStream: result.openPeak > 0 ? (Math.max(0, rssPeak - rssBefore) * 1024) / result.openPeak : 0,
      foreignShare: wall > 0 ? Math.max(0, busy - cpu) / wall : 0,
    };
  } finally {
    clearInterval(sampler);
    await child.stop();
  }
}

const describe = (r: StreamRun) =>
  `TTFB p50/p99 ${r.ttfbP50Ms.toFixed(1)}/${r.ttfbP99Ms.toFixed(1)} ms  gap p50/p99 ${r.gapP50Ms.toFixed(1)}/${r.gapP99Ms.toFixed(1)} ms  ${r.cpuUsPerChunk.toFixed(1)} µs CPU/chunk  ${r.chunks} chunks  errors ${r.errors}  others on the proxy core ${(r.foreignShare * 100).toFixed(0)}%`;

export async function runStreams(options: StreamsOptions): Promise<Record<string, number>> {
  const { quick, dir, logDir, log } = options;
  const rounds = quick ? 1 : 2;
  const chunks = quick ? 20 : 40;
  const rampMs = 1000;
  const steps = quick ? [1000, 2000] : [1000, 2000, 4000, 6000, 8000, 12000];
  const capacityChunks = quick ? 12 : 20;
  const capacityRampMs = 2000;

  const upstream = startNode({
    name: 'sse-upstream',
    script: join(ROOT, 'bench/sse-upstream.ts'),
    cpu: CORES.upstream,
    logDir,
    env: baseEnv({ PORT: '0', FIRST_MS: String(FIRST_MS), INTERVAL_MS: String(INTERVAL_MS), CHUNKS: String(chunks) }),
  });
  const upstreamPort = Number((await upstream.waitForLine((l) => l.startsWith('listening '), 20_000)).split(' ')[1]);
  const seeded = await seedOneDeployment(`http://127.0.0.1:${upstreamPort}`, 'streams');
  const keygate = await startProxyProcess({ name: 'streams-keygate', databaseUrl: seeded.databaseUrl, redisPrefix: seeded.redisPrefix, cpu: CORES.proxy, logDir });
  const bare = startNode({
    name: 'streams-bare',
    script: join(ROOT, 'bench/reference-proxy.ts'),
    cpu: CORES.proxy,
    logDir,
    env: baseEnv({ PORT: '0', UPSTREAM: `http://127.0.0.1:${upstreamPort}`, KEY_HASHES: hashSecret(seeded.secret) }),
  });
  const barePort = Number((await bare.waitForLine((l) => l.startsWith('listening '), 20_000)).split(' ')[1]);
  const nginx = options.nginxBinary ? await startNginx({ binary: options.nginxBinary, upstreamPort, cpu: CORES.proxy, dir, logDir }) : null;

  const key = { 'X-API-Key': seeded.secret };
  const local = (port: number) => `127.0.0.1:${port}`;
  const targets: Record<string, StreamTarget> = {
    direct: { name: 'direct', port: upstreamPort, host: local(upstreamPort), headers: key, cpuSeconds: () => cpuSeconds(upstream.pid), rssMb: () => treeRssMb(upstream.pid) },
    bare: { name: 'bare', port: barePort, host: local(barePort), headers: key, cpuSeconds: () => cpuSeconds(bare.pid), rssMb: () => treeRssMb(bare.pid) },
    keygate: { name: 'keygate', port: keygate.port, host: seeded.host, headers: key, cpuSeconds: () => cpuSeconds(keygate.pid), rssMb: () => treeRssMb(keygate.pid) },
  };
  if (nginx) targets.nginx = { name: 'nginx', port: nginx.port, host: local(nginx.port), headers: key, cpuSeconds: () => treeCpuSeconds(nginx.pid), rssMb: () => treeRssMb(nginx.pid) };
  const names = Object.keys(targets);

  try {
    // Every target streams as expected before anything is timed (and the JIT is warm).
    for (const name of names) {
      const w = await streamRun(targets[name]!, { streams: 100, chunks: 4, rampMs: 200, steadyOnly: false }, dir, logDir);
      if (w.errors > 0 || w.completed !== 100) throw new Error(`streams ${name}: ${w.errors} of 100 warm-up streams failed`);
    }
    await sleep(500);

    const main: Record<string, StreamRun[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of names.map((_, i) => names[(i + round) % names.length]!)) {
        const r = await streamRun(targets[name]!, { streams: STREAMS, chunks, rampMs, steadyOnly: false }, dir, logDir);
        main[name]!.push(r);
        log(`  round ${round + 1} ${name.padEnd(8)} ${STREAMS} streams  ${describe(r)}  RSS +${r.rssKbPerStream.toFixed(1)} kB/stream`);
        await sleep(300); // closed connections leave the proxies' pools
      }
    }

    // Capacity: the same load at more open streams, stepping up until each proxy falls more
    // than CAPACITY_SLACK_MS behind direct (in TTFB p99 or steady-state gap p99).
    // (bare and keygate only: the targets compare those two, and the time is bounded)
    const capacity: Record<string, number> = { bare: 0, keygate: 0 };
    const holding = new Set(Object.keys(capacity));
    const stepLoad = { chunks: capacityChunks, rampMs: capacityRampMs, steadyOnly: true };
    let directLast: StreamRun | null = null;
    for (const streams of steps) {
      if (holding.size === 0) break;
      const direct = await streamRun(targets.direct!, { ...stepLoad, streams }, dir, logDir);
      directLast = direct;
      log(`  capacity ${String(streams).padStart(5)} direct   ${describe(direct)}`);
      for (const name of [...holding]) {
        await sleep(300);
        const r = await streamRun(targets[name]!, { ...stepLoad, streams }, dir, logDir);
        const held = r.errors === 0 && r.ttfbP99Ms <= direct.ttfbP99Ms + CAPACITY_SLACK_MS && r.gapP99Ms <= direct.gapP99Ms + CAPACITY_SLACK_MS;
        log(`  capacity ${String(streams).padStart(5)} ${name.padEnd(8)} ${describe(r)}  ${held ? 'holds' : 'falls behind direct'}`);
        if (held) capacity[name] = streams;
        else holding.delete(name);
      }
    }

    // Within-round differences and ratios, median over rounds.
    const perRound = (field: keyof StreamRun, combine: (k: number, b: number) => number) =>
      median(main.keygate!.map((k, i) => combine(k[field] as number, main.bare![i]![field] as number)));
    const med = (name: string, field: keyof StreamRun) => median((main[name] ?? []).map((r) => r[field] as number));
    const first = (name: string, field: keyof StreamRun) => (main[name]?.[0]?.[field] as number | undefined) ?? 0;
    const result: Record<string, number> = {
      ttfb_p99_ms_over_bare: perRound('ttfbP99Ms', (k, b) => k - b),
      gap_p99_ms_over_bare: perRound('gapP99Ms', (k, b) => k - b),
      cpu_ratio_vs_bare: perRound('cpuUsPerChunk', ratio),
      rss_ratio_vs_bare: ratio(first('keygate', 'rssKbPerStream'), first('bare', 'rssKbPerStream')),
      // Bare fell behind at the first step while keygate held: bare's capacity is below that step, so
      // keygate's over the first step is a lower bound of the ratio.
      capacity_ratio_vs_bare: capacity.bare! > 0 ? ratio(capacity.keygate!, capacity.bare!) : capacity.keygate! > 0 ? capacity.keygate! / steps[0]! : 0,
      // extras
      streams: STREAMS,
      chunks_per_stream: chunks,
      rounds,
      capacity_steps_max: steps[steps.length - 1]!,
      capacity_direct_last_gap_p99_ms: directLast?.gapP99Ms ?? 0,
    };
    for (const name of names) {
      result[`${name}_ttfb_p50_ms`] = med(name, 'ttfbP50Ms');
      result[`${name}_ttfb_p99_ms`] = med(name, 'ttfbP99Ms');
      result[`${name}_gap_p50_ms`] = med(name, 'gapP50Ms');
      result[`${name}_gap_p99_ms`] = med(name, 'gapP99Ms');
      result[`${name}_gap_max_ms`] = med(name, 'gapMaxMs');
      result[`${name}_cpu_us_per_chunk`] = med(name, 'cpuUsPerChunk');
      result[`${name}_rss_kb_per_stream`] = first(name, 'rssKbPerStream');
      result[`${name}_errors`] = (main[name] ?? []).reduce((s, r) => s + r.errors, 0);
      result[`${name}_proxy_core_used_by_others_pct`] = 100 * med(name, 'foreignShare');
      if (name in capacity) result[`${name}_capacity_streams`] = capacity[name]!;
    }
    return result;
  } finally {
    await keygate.stop();
    await bare.stop();
    await nginx?.stop('SIGQUIT');
    await upstream.stop();
  }
}
