// Key lifecycle (issue 14): cutting requests in flight (docs/architecture.md, "Cutting requests in
// flight").
//  - cut_p99_ms: from the start of the unlinkApiKey mutation to the last open stream of that key
//    ending, with 1,000 open streams (--quick: 200) spread over two `keygate proxy` processes on
//    Redis. A stream has ended when its socket has read the api_key_revoked event or closed. Each
//    round a fresh key and deployment; p99 over the rounds of "last stream ended", with the
//    per-stream p99 and the mutation's own time beside it.
//  - cpu_ratio_2000_streams: the proxy's CPU per short request (wrk, a JSON chat completion) with
//    2,000 idle streams of the same key open (one chunk every 10 s) ÷ with none. Two proxy
//    processes pinned to the same core, one holding the streams; wrk against each in turn, the
//    order rotating each round; the ratio within each round, the median over rounds.
// The streams come from bench/sse-upstream.ts through raw sockets opened in this process.
import net from 'node:net';
import { CreateApiKey, CreateDeployment, CreateProject, UnlinkApiKey } from '../test/helpers/operations.ts';
import { CHAT_BODY, CONNECTIONS } from './proxy-overhead.ts';
import { freshDatabase, freshRedisPrefix, gql, type KeygateProcess, startInProcess, startProxyProcess } from './lib/keygate.ts';
import { cleanRuns, closedLoop, type ClosedRun, MAX_FOREIGN_SHARE, type Target } from './lib/load.ts';
import { baseEnv, CORES, cpuSeconds, ROOT, sleep, startNode } from './lib/procs.ts';
import { median, percentile, ratio } from './lib/stats.ts';

export interface LifecycleOptions {
  quick: boolean;
  /** bench/upstream.ts: the JSON answers of the short requests */
  upstreamPort: number;
  dir: string;
  logDir: string;
  log: (line: string) => void;
}

const IDLE_STREAMS = 2000;
const IDLE_INTERVAL_MS = 10_000;
const STREAM_BODY = JSON.stringify({ model: 'llama-3-8b', stream: true, max_tokens: 10_000, messages: [{ role: 'user', content: 'Tell me a long story.' }] });

export async function runLifecycle(o: LifecycleOptions): Promise<Record<string, number>> {
  const db = await freshDatabase();
  const prefix = freshRedisPrefix();
  const cp = await startInProcess('control-plane', db.url, prefix);
  const sse = startNode({
    name: 'lifecycle-sse-upstream',
    script: `${ROOT}/bench/sse-upstream.ts`,
    cpu: CORES.upstream,
    env: baseEnv({ PORT: '0', FIRST_MS: '5', INTERVAL_MS: String(IDLE_INTERVAL_MS), CHUNKS: '10000' }),
    logDir: o.logDir,
  });
  const ssePort = Number((await sse.waitForLine((l) => l.startsWith('listening '), 20_000)).split(' ')[1]);
  const proxies: KeygateProcess[] = [];
  const streams: OpenStream[] = [];
  try {
    const project = (await gql(cp.url, CreateProject, { slug: 'lifecycle-bench', name: 'lifecycle-bench' })).createProject.project;
    const start = (name: string) => startProxyProcess({ name, databaseUrl: db.url, redisPrefix: prefix, cpu: CORES.proxy, logDir: o.logDir });
    proxies.push(await start('lifecycle-proxy-a'), await start('lifecycle-proxy-b'));
    const cut = await measureCut(o, cp.url, project.id, ssePort, proxies);
    const cpu = await measureCpu(o, cp.url, project.id, ssePort, proxies, streams);
    return { ...cut, ...cpu };
  } finally {
    for (const s of streams) s.socket.destroy();
    for (const p of proxies) await p.stop();
    await sse.stop();
    await cp.stop();
  }
}

interface OpenStream {
  socket: net.Socket;
  /** performance.now() when the stream ended (revoked event read, or closed); 0 while open */
  endedAt: number;
  revoked: boolean;
}

/** Opens one stream through `port` and resolves once its first event arrived. */
function openStream(port: number, path: string, secret: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const s: OpenStream = { socket, endedAt: 0, revoked: false };
    let head = '';
    let opened = false;
    const end = () => {
      if (s.endedAt === 0) s.endedAt = performance.now();
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (!opened) {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`stream refused: ${head.split('\r\n')[0]}`));
        if (!head.includes('data:')) return;
        opened = true;
        resolve(s);
        return;
      }
      // The last event of a cut stream; the stream has ended for its client once it is read.
      if (chunk.includes('api_key_revoked')) {
        s.revoked = true;
        end();
      }
    });
    socket.on('close', end);
    socket.on('error', (error) => (opened ? end() : reject(error)));
    socket.write(
      `POST ${path}/v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-api-key: ${secret}\r\ncontent-length: ${Buffer.byteLength(STREAM_BODY)}\r\n\r\n${STREAM_BODY}`,
    );
  });
}

/** Opens `count` streams, alternating over `ports`, at most 100 opening at once. */
async function openStreams(count: number, ports: number[], path: string, secret: string): Promise<OpenStream[]> {
  const out: OpenStream[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) => openStream(ports[(i + j) % ports.length]!, path, secret));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

async function measureCut(o: LifecycleOptions, url: string, projectId: string, ssePort: number, proxies: KeygateProcess[]) {
  const count = o.quick ? 200 : 1000;
  const rounds = o.quick ? 3 : 7;
  const last: number[] = [];
  const perStream: number[] = [];
  const mutation: number[] = [];
  let notRevoked = 0;
  for (let round = 0; round < rounds; round++) {
    const key = (await gql(url, CreateApiKey, { input: { projectId, name: `cut-key-${round}` } })).createApiKey;
    const deployment = (
      await gql(url, CreateDeployment, {
        input: { projectId, name: `cut-${round}`, model: 'llama-3-8b', upstreamUrl: `http://127.0.0.1:${ssePort}`, authEnabled: true, apiKeyIds: [key.apiKey.id] },
      })
    ).createDeployment.deployment;
    const streams = await openStreams(count, proxies.map((p) => p.port), `/lifecycle-bench/cut-${round}`, key.secret);
    await sleep(200);
    const t0 = performance.now();
    const r = await gql(url, UnlinkApiKey, { input: { apiKeyId: key.apiKey.id, deploymentId: deployment.id } });
    mutation.push(performance.now() - t0);
    if (!r.unlinkApiKey.propagation.confirmed) throw new Error('the unlink was not confirmed by both proxies');
    const deadline = performance.now() + 10_000;
    while (streams.some((s) => s.endedAt === 0) && performance.now() < deadline) await sleep(5);
    const open = streams.filter((s) => s.endedAt === 0).length;
    if (open > 0) throw new Error(`${open} of ${count} streams still open 10 s after the unlink`);
    const ends = streams.map((s) => s.endedAt - t0);
    notRevoked += streams.filter((s) => !s.revoked).length;
    perStream.push(...ends);
    last.push(Math.max(...ends));
    o.log(`  round ${round + 1}: ${count} streams on 2 proxies, unlink took ${mutation.at(-1)!.toFixed(1)} ms, last stream ended ${last.at(-1)!.toFixed(1)} ms after its start (p50 ${percentile(ends, 50).toFixed(1)} ms)`);
    for (const s of streams) s.socket.destroy();
  }
  return {
    cut_p99_ms: percentile(last, 99),
    cut_last_median_ms: median(last),
    cut_stream_p50_ms: percentile(perStream, 50),
    cut_stream_p99_ms: percentile(perStream, 99),
    cut_mutation_median_ms: median(mutation),
    cut_streams: count,
    cut_rounds: rounds,
    cut_streams_without_revoked_event: notRevoked,
  };
}

async function measureCpu(o: LifecycleOptions, url: string, projectId: string, ssePort: number, proxies: KeygateProcess[], streams: OpenStream[]) {
  const key = (await gql(url, CreateApiKey, { input: { projectId, name: 'cpu-key' } })).createApiKey;
  for (const [name, port] of [['short', o.upstreamPort], ['idle', ssePort]] as const) {
    await gql(url, CreateDeployment, {
      input: { projectId, name, model: 'llama-3-8b', upstreamUrl: `http://127.0.0.1:${port}`, authEnabled: true, apiKeyIds: [key.apiKey.id] },
    });
  }
  const [withStreams, without] = proxies as [KeygateProcess, KeygateProcess];
  streams.push(...(await openStreams(IDLE_STREAMS, [withStreams.port], '/lifecycle-bench/idle', key.secret)));
  o.log(`  ${streams.length} idle streams open on one proxy (a chunk every ${IDLE_INTERVAL_MS / 1000} s)`);
  const requests = [{ host: '127.0.0.1', path: '/lifecycle-bench/short/v1/chat/completions', headers: { 'Content-Type': 'application/json', 'X-API-Key': key.secret }, body: CHAT_BODY }];
  const targets: Record<'streams' | 'none', Target> = {
    streams: { name: 'lifecycle-streams', port: withStreams.port, requests, cpuSeconds: () => cpuSeconds(withStreams.pid) },
    none: { name: 'lifecycle-none', port: without.port, requests, cpuSeconds: () => cpuSeconds(without.pid) },
  };
  const load = { connections: CONNECTIONS, cpu: CORES.load, dir: o.dir };
  for (const target of Object.values(targets)) {
    const w = await closedLoop(target, { ...load, seconds: 2 });
    if (w.statusErrors > 0) throw new Error(`lifecycle ${target.name}: ${w.statusErrors} of ${w.requests} requests answered ≥ 400`);
  }
  const rounds = o.quick ? 3 : 7;
  const seconds = o.quick ? 2 : 5;
  const runs: Record<'streams' | 'none', ClosedRun[]> = { streams: [], none: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['streams', 'none'] as const) : (['none', 'streams'] as const);
    for (const name of order) {
      const r = await closedLoop(targets[name], { ...load, seconds });
      runs[name].push(r);
      o.log(`  round ${round + 1} ${name.padEnd(8)} ${Math.round(r.rps)} req/s  ${r.cpuUsPerReq.toFixed(1)} µs CPU/req  others on the proxy core ${(r.foreignShare * 100).toFixed(0)}%`);
    }
  }
  const stillOpen = streams.filter((s) => s.endedAt === 0).length;
  const pairs = runs.streams.map((r, i) => [r, runs.none[i]!] as const);
  const clean = pairs.filter(([a, b]) => a.foreignShare <= MAX_FOREIGN_SHARE && b.foreignShare <= MAX_FOREIGN_SHARE);
  const cpuRatio = median((clean.length > 0 ? clean : pairs).map(([a, b]) => ratio(a.cpuUsPerReq, b.cpuUsPerReq)));
  o.log(`  CPU per short request, ${IDLE_STREAMS} idle streams open ÷ none (median of ${rounds} rounds): ${cpuRatio.toFixed(3)}×; ${stillOpen} streams still open at the end`);
  return {
    cpu_ratio_2000_streams: cpuRatio,
    cpu_us_per_req_2000_streams: median(cleanRuns(runs.streams).map((r) => r.cpuUsPerReq)),
    cpu_us_per_req_no_streams: median(cleanRuns(runs.none).map((r) => r.cpuUsPerReq)),
    cpu_rounds: rounds,
    idle_streams_open_at_end: stillOpen,
  };
}
