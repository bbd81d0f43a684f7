// Compares ways of forwarding for the data-plane proxy: CPU time of the proxy process per request
// (the proxy runs in its own process, the upstream in another, the load comes from this one), and
// whether a client that goes away mid-stream or before the headers aborts the upstream request,
// and whether an upstream reset mid-stream reaches the client.
//
//   npx tsx bench/proxy-lib-compare.ts [requests=20000] [connections=32] [variants=all|a,b,…] [rounds=3]
//
// The libraries are looked up in node_modules, else in $HTTP_PROXY_3_DIR / $HTTP_PROXY_DIR (a folder
// holding node_modules/<name>), so the comparison runs whichever one package.json keeps.
// BENCH_PROFILE=dir, BENCH_STRACE=dir and BENCH_PROXY_FLAGS="--flag …" instrument the proxy process.
// A benchmark, not a test: it prints figures and never fails on a timing.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const BODY = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(250) }, finish_reason: 'stop' }],
});
const VARIANTS = ['node-pipe', 'http-proxy', 'http-proxy-self', 'http-proxy-3', 'http-proxy-3-self', 'keygate-forwarder', 'keygate'] as const;
type Variant = (typeof VARIANTS)[number];

// ---------- child: upstream ----------
function runUpstream() {
  const events: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const t = setInterval(() => res.write('data: {"x":1}\n\n'), 20);
      res.on('close', () => {
        clearInterval(t);
        events.push('sse-closed');
      });
      return;
    }
    if (req.url === '/slow') {
      req.resume();
      res.on('close', () => events.push('slow-closed'));
      return;
    }
    if (req.url === '/reset') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      setTimeout(() => req.socket.destroy(), 50);
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
      res.end(BODY);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m: { take?: boolean }) => {
    if (m.take) process.send!({ events: events.splice(0) });
  });
}

// ---------- child: proxy ----------
/** Loads a forwarding library by name, untyped: either may be absent from package.json. */
async function loadLibrary(name: 'http-proxy' | 'http-proxy-3'): Promise<any> {
  try {
    const mod = await import(name);
    return mod.default ?? mod;
  } catch {
    const dir = name === 'http-proxy-3' ? process.env.HTTP_PROXY_3_DIR : process.env.HTTP_PROXY_DIR;
    if (!dir) throw new Error(`${name} not installed: npm i --no-save ${name === 'http-proxy-3' ? 'http-proxy-3@1.23' : 'http-proxy@1.18.1'}`);
    return createRequire(`${dir}/package.json`)(name);
  }
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);
function writeHeadFrom(res: http.ServerResponse, up: http.IncomingMessage) {
  const raw = up.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  res.writeHead(up.statusCode!, out);
}

async function runProxy(variant: Variant, upstreamPort: number) {
  const target = new URL(`http://127.0.0.1:${upstreamPort}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const fail = (res: http.ServerResponse) => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  };
  let handler: http.RequestListener;
  if (variant === 'node-pipe') {
    handler = (req, res) => {
      const up = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent },
        (pres) => {
          res.writeHead(pres.statusCode!, pres.headers);
          pres.pipe(res);
        },
      );
      up.on('error', () => fail(res));
      res.on('close', () => {
        if (!res.writableFinished) up.destroy();
      });
      req.pipe(up);
    };
  } else if (variant === 'keygate-forwarder') {
    // keygate's forward.ts alone: no routing, authorization or metrics in front of it
    const { createForwarder } = await import('../src/proxy/forward.ts');
    const { createUpstreamPolicy } = await import('../src/domain/upstream-policy.ts');
    const { AuthTable } = await import('../src/proxy/auth-table.ts');
    const table = new AuthTable();
    table.load({ revision: 1, apiKeys: [], deployments: [{ id: 'd1', projectId: 'p1', projectSlug: 'bench', name: 'm', upstreamUrl: target.href, authEnabled: false, apiKeyIds: [] }] });
    const deployment = table.findDeployment('bench', 'm')!;
    const forwarder = createForwarder({
      timeouts: { connectTimeoutMs: 5000, headersTimeoutMs: 300_000, idleTimeoutMs: 300_000 },
      policy: createUpstreamPolicy({ allow: [], deny: [] }),
      hooks: { responded: () => null, failed() {}, clientClosed() {} },
    });
    handler = (req, res) => forwarder.web(req, res, deployment, req.url ?? '/');
  } else if (variant === 'keygate') {
    const { createProxyServer } = await import('../src/proxy/proxy-server.ts');
    const { AuthTable } = await import('../src/proxy/auth-table.ts');
    const { Registry } = await import('prom-client');
    const { pino } = await import('pino');
    const table = new AuthTable();
    table.load({
      revision: 1,
      apiKeys: [{ id: 'k1', projectId: 'p1', hash: process.env.BENCH_KEY_HASH!, expiresAt: null }],
      deployments: [
        { id: 'd1', projectId: 'p1', projectSlug: 'bench', name: 'm', upstreamUrl: target.href, authEnabled: true, apiKeyIds: ['k1'] },
      ],
    });
    const proxy = createProxyServer({
      table,
      config: {
        host: '127.0.0.1',
        port: 0,
        baseDomain: 'localhost',
        upstream: { connectTimeoutMs: 5000, headersTimeoutMs: 300_000, idleTimeoutMs: 300_000, allow: [], deny: [] },
      },
      log: pino({ level: 'info' }),
      registry: new Registry(),
      status: () => 'ready',
    });
    const { port } = await proxy.start();
    process.send!({ port });
    return;
  } else {
    const lib = await loadLibrary(variant.startsWith('http-proxy-3') ? 'http-proxy-3' : 'http-proxy');
    const self = variant.endsWith('-self');
    const proxy = lib.createProxyServer({ target, agent, selfHandleResponse: self });
    proxy.on('error', () => {});
    if (self) {
      proxy.on('proxyRes', (up: http.IncomingMessage, _req: http.IncomingMessage, res: http.ServerResponse) => {
        writeHeadFrom(res, up);
        up.pipe(res);
      });
    }
    handler = (req, res) => proxy.web(req, res, {}, () => fail(res));
  }
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
}

// ---------- parent ----------
function start(args: string[], env?: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  // BENCH_PROFILE=dir writes a V8 CPU profile of each proxy process there.
  const profile = args[0] === 'proxy' && process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  if (args[0] === 'proxy' && process.env.BENCH_PROXY_FLAGS) profile.push(...process.env.BENCH_PROXY_FLAGS.split(' '));
  const child = fork(SELF, args, { env: { ...process.env, ...env }, stdio: 'inherit', execArgv: [...process.execArgv, ...profile] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

/** utime and stime of a process from /proc, in µs: the proxy is measured from outside, unmodified. */
function cpuOf(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 1e6 / 100;
  return { user: Number(fields[11]) * tick, sys: Number(fields[12]) * tick };
}

async function load(port: number, path: string, headers: http.OutgoingHttpHeaders, total: number, connections: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let sent = 0;
  let failed = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent }, (res) => {
        if (res.statusCode !== 200) failed++;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end('{"model":"bench","messages":[]}');
    });
  const worker = async () => {
    while (sent < total) {
      sent++;
      await one();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const ms = performance.now() - t0;
  agent.destroy();
  return { ms, failed };
}

function takeEvents(upstream: ChildProcess): Promise<string[]> {
  return new Promise((resolve) => {
    upstream.once('message', (m: { events: string[] }) => resolve(m.events));
    upstream.send({ take: true });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Client reads one chunk of an endless SSE stream, then goes away: does the upstream see it? */
async function abortMidStream(port: number, prefix: string, headers: http.OutgoingHttpHeaders, upstream: ChildProcess) {
  await takeEvents(upstream);
  await new Promise<void>((resolve) => {
    setTimeout(resolve, 2000);
    const req = http.get({ host: '127.0.0.1', port, path: `${prefix}/sse`, headers, agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => resolve());
  });
  await sleep(300);
  return (await takeEvents(upstream)).includes('sse-closed');
}

/** Client goes away while the upstream has not answered yet. */
async function abortBeforeHeaders(port: number, prefix: string, headers: http.OutgoingHttpHeaders, upstream: ChildProcess) {
  await takeEvents(upstream);
  const req = http.request({ host: '127.0.0.1', port, path: `${prefix}/slow`, method: 'POST', headers, agent: false });
  req.on('error', () => {});
  req.end('{}');
  await sleep(150);
  req.destroy();
  await sleep(300);
  return (await takeEvents(upstream)).includes('slow-closed');
}

/** Upstream resets mid-stream: does the client learn that its response is cut (within 1 s)? */
function resetMidStream(port: number, prefix: string, headers: http.OutgoingHttpHeaders): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('client hangs'), 1000);
    const req = http.get({ host: '127.0.0.1', port, path: `${prefix}/reset`, headers, agent: false }, (res) => {
      res.resume();
      res.on('error', () => {});
      res.on('close', () => {
        clearTimeout(timer);
        resolve(res.complete ? 'clean end (truncation hidden)' : 'client sees abort');
      });
    });
    req.on('error', () => {
      clearTimeout(timer);
      resolve('client sees error');
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const total = Number(process.argv[2] ?? 20000);
  const connections = Number(process.argv[3] ?? 32);
  const wanted = (process.argv[4] ?? 'all') === 'all' ? [...VARIANTS] : (process.argv[4]!.split(',') as Variant[]);
  const rounds = Number(process.argv[5] ?? 3);
  const { issueSecret } = await import('../src/domain/secrets.ts');
  const key = issueSecret('kg_');
  const upstream = await start(['upstream']);
  const runs = new Map<Variant, Array<{ user: number; sys: number; rps: number }>>();
  const behaviour = new Map<Variant, string>();
  // Variants take turns, round after round, so a burst of load from elsewhere hits all of them.
  for (let round = 0; round < rounds; round++) {
    for (const variant of wanted) {
      let proxy;
      try {
        proxy = await start(['proxy', variant, String(upstream.port)], { BENCH_KEY_HASH: key.hash });
      } catch (e) {
        behaviour.set(variant, `skipped: ${(e as Error).message}`);
        continue;
      }
      const prefix = variant === 'keygate' ? '/bench/m' : '';
      const headers = variant === 'keygate' ? { 'x-api-key': key.secret } : {};
      await load(proxy.port, `${prefix}/v1/chat/completions`, headers, Math.min(3000, total), connections);
      // BENCH_STRACE=dir counts the proxy's system calls during the measured run (slows it down).
      const strace = process.env.BENCH_STRACE
        ? spawn('strace', ['-c', '-f', '-o', `${process.env.BENCH_STRACE}/${variant}-${round}.txt`, '-p', String(proxy.child.pid)])
        : undefined;
      if (strace) await sleep(300);
      const before = cpuOf(proxy.child.pid!);
      const { ms, failed } = await load(proxy.port, `${prefix}/v1/chat/completions`, headers, total, connections);
      const after = cpuOf(proxy.child.pid!);
      if (strace) {
        strace.kill('SIGINT');
        await new Promise((r) => strace.once('exit', r));
      }
      if (failed) console.error(`${variant}: ${failed} requests failed`);
      const list = runs.get(variant) ?? [];
      list.push({ user: (after.user - before.user) / total, sys: (after.sys - before.sys) / total, rps: (total / ms) * 1000 });
      runs.set(variant, list);
      if (round === 0) {
        const midStream = await abortMidStream(proxy.port, prefix, headers, upstream.child);
        const beforeHeaders = await abortBeforeHeaders(proxy.port, prefix, headers, upstream.child);
        const reset = await resetMidStream(proxy.port, prefix, headers);
        behaviour.set(
          variant,
          `${midStream ? 'upstream aborted' : 'upstream keeps streaming'} | ${beforeHeaders ? 'upstream aborted' : 'upstream kept waiting'} | ${reset}`,
        );
      }
      proxy.child.kill();
      await new Promise((r) => proxy.child.once('exit', r));
    }
  }
  upstream.child.kill();
  console.log(`${total} POST requests × ${rounds} rounds, ${connections} keep-alive connections, ~${BODY.length} B JSON answers, Node ${process.version}, ${availableParallelism()} CPUs\n`);
  console.log('| variant | CPU µs/req (median) | user µs/req | sys µs/req | range (user+sys) | req/s | abort mid-stream | abort before headers | upstream reset mid-stream |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const variant of wanted) {
    const list = runs.get(variant) ?? [];
    if (list.length === 0) {
      console.log(`| ${variant} | ${behaviour.get(variant)} |||||||| `);
      continue;
    }
    const sums = list.map((r) => r.user + r.sys);
    console.log(
      `| ${variant} | ${median(sums).toFixed(0)} | ${median(list.map((r) => r.user)).toFixed(0)} | ${median(list.map((r) => r.sys)).toFixed(0)} | ${Math.min(...sums).toFixed(0)}–${Math.max(...sums).toFixed(0)} | ${median(list.map((r) => r.rps)).toFixed(0)} | ${behaviour.get(variant)} |`,
    );
  }
}

if (process.argv[2] === 'upstream' || process.argv[2] === 'proxy') {
  // Children go when the parent goes, however it ends.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
}
if (process.argv[2] === 'upstream') runUpstream();
else if (process.argv[2] === 'proxy') {
  void runProxy(process.argv[3] as Variant, Number(process.argv[4]));
}
else await main();
