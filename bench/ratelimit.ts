// Rate limits per key (issue 13):
//  - cpu_ratio_vs_off: proxy CPU per request for a key with a limit (one it never reaches, so every
//    request is decided and forwarded with its x-ratelimit-* headers) ÷ a key without one, on the
//    same `keygate proxy` process pinned to the proxy core; wrk against each in turn, the order
//    swapping every round, the ratio taken within each round, the median over at least 5 rounds.
//  - fleet_overshoot_pct: two `keygate proxy` processes sharing Redis, one key limited to LIMIT a minute (per
//    window, scaled), fed alternately at 3× the limit (an open loop from this process) for 1.5 windows; the
//    most requests that passed in any window (by the time each was answered: on a loaded machine
//    that drifts from the proxies' admission by the queueing, so only a quiet machine's figure is
//    worth recording), over the limit, in %
//    (0 when within it). A window is 60 s; --quick shortens it to 10 s with the test-only
//    KEYGATE_RATELIMIT_WINDOW_MS. steady_pass_pct: what passed in the first window ÷ the limit.
//  - redis_ops_per_request: the rate-limit sync's Redis commands (keygate_ratelimit_redis_commands_total
//    on both proxies; one script call each, whatever it carries) ÷ the requests of that run.
import { CHAT_BODY, CONNECTIONS } from './proxy-overhead.ts';
import { freshDatabase, freshRedisPrefix, gql, startInProcess, startProxyProcess, type KeygateProcess } from './lib/keygate.ts';
import { cleanRuns, closedLoop, type ClosedRun, MAX_FOREIGN_SHARE, type Target } from './lib/load.ts';
import { CORES, cpuSeconds, freePort } from './lib/procs.ts';
import { median, ratio } from './lib/stats.ts';

export interface RateLimitBenchOptions {
  quick: boolean;
  upstreamPort: number;
  dir: string;
  logDir: string;
  log: (line: string) => void;
}

/** the fleet run's requestsPerMinute: 3× is 300 requests/s */
const LIMIT = 6000;

export async function runRateLimit(options: RateLimitBenchOptions): Promise<Record<string, number>> {
  const db = await freshDatabase();
  const prefix = freshRedisPrefix();
  const windowMs = options.quick ? 10_000 : 60_000;
  const env = { KEYGATE_RATELIMIT_WINDOW_MS: String(windowMs) };
  const cp = await startInProcess('control-plane', db.url, prefix, env);
  try {
    const cpu = await measureCpu({ ...options, databaseUrl: db.url, redisPrefix: prefix, controlPlaneUrl: cp.url, env });
    const fleet = await measureFleet({ ...options, databaseUrl: db.url, redisPrefix: prefix, controlPlaneUrl: cp.url, env, windowMs });
    return { ...cpu, ...fleet };
  } finally {
    await cp.stop();
  }
}

interface Setup extends RateLimitBenchOptions {
  databaseUrl: string;
  redisPrefix: string;
  controlPlaneUrl: string;
  env: Record<string, string>;
}

/** A project with one deployment opened by one key per given limit (null: none). */
async function seed(url: string, slug: string, upstreamPort: number, limits: ({ requestsPerMinute: number } | null)[]) {
  const project = (await gql<{ createProject: { project: { id: string } } }, unknown>(url, `mutation($slug: String!) { createProject(input: { slug: $slug, name: $slug }) { project { id } } }`, { slug })).createProject.project;
  const keys: { id: string; secret: string }[] = [];
  for (const [i, rateLimit] of limits.entries()) {
    const created = await gql<{ createApiKey: { secret: string; apiKey: { id: string } } }, unknown>(
      url,
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }`,
      { input: { projectId: project.id, name: `bench-key-${i}`, rateLimit } },
    );
    keys.push({ id: created.createApiKey.apiKey.id, secret: created.createApiKey.secret });
  }
  await gql(url, `mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { deployment { id } } }`, {
    input: { projectId: project.id, name: 'chat', model: 'llama-3-8b', upstreamUrl: `http://127.0.0.1:${upstreamPort}`, authEnabled: true, apiKeyIds: keys.map((k) => k.id) },
  });
  return keys;
}

async function measureCpu(o: Setup) {
  const [limited, open] = await seed(o.controlPlaneUrl, 'ratelimit-cpu', o.upstreamPort, [{ requestsPerMinute: 10_000_000 }, null]);
  const proxy = await startProxyProcess({ name: 'ratelimit-proxy', databaseUrl: o.databaseUrl, redisPrefix: o.redisPrefix, cpu: CORES.proxy, logDir: o.logDir, env: o.env });
  try {
    const host = 'model-chat.ratelimit-cpu.localhost';
    const target = (name: string, secret: string): Target => ({
      name,
      port: proxy.port,
      requests: [{ host, path: '/v1/chat/completions', headers: { 'Content-Type': 'application/json', 'X-API-Key': secret }, body: CHAT_BODY }],
      cpuSeconds: () => cpuSeconds(proxy.pid),
    });
    const targets = { limited: target('ratelimit-limited', limited!.secret), open: target('ratelimit-open', open!.secret) };
    const load = { connections: CONNECTIONS, cpu: CORES.load, dir: o.dir };
    for (const [name, t] of Object.entries(targets)) {
      const w = await closedLoop(t, { ...load, seconds: 2 });
      if (w.statusErrors > 0) throw new Error(`ratelimit ${name}: ${w.statusErrors} of ${w.requests} requests answered ≥ 400`);
    }
    const rounds = 5;
    const seconds = o.quick ? 2 : 5;
    const runs: Record<'limited' | 'open', ClosedRun[]> = { limited: [], open: [] };
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 === 0 ? (['limited', 'open'] as const) : (['open', 'limited'] as const)) {
        const r = await closedLoop(targets[name], { ...load, seconds });
        runs[name].push(r);
        o.log(`  round ${round + 1} ${name.padEnd(8)} ${Math.round(r.rps)} req/s  ${r.cpuUsPerReq.toFixed(1)} µs CPU/req  others on the proxy core ${(r.foreignShare * 100).toFixed(0)}%`);
      }
    }
    const pairs = runs.limited.map((r, i) => [r, runs.open[i]!] as const);
    const clean = pairs.filter(([a, b]) => a.foreignShare <= MAX_FOREIGN_SHARE && b.foreignShare <= MAX_FOREIGN_SHARE);
    const cpuRatio = median((clean.length > 0 ? clean : pairs).map(([a, b]) => ratio(a.cpuUsPerReq, b.cpuUsPerReq)));
    o.log(`  limited ÷ unlimited key, CPU per request (median of ${rounds} rounds): ${cpuRatio.toFixed(3)}×`);
    return {
      cpu_ratio_vs_off: cpuRatio,
      cpu_rounds: rounds,
      cpu_us_per_req_limited: median(cleanRuns(runs.limited).map((r) => r.cpuUsPerReq)),
      cpu_us_per_req_unlimited: median(cleanRuns(runs.open).map((r) => r.cpuUsPerReq)),
    };
  } finally {
    await proxy.stop();
  }
}

async function commandsSent(statusPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('keygate_ratelimit_redis_commands_total '));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function measureFleet(o: Setup & { windowMs: number }) {
  // With a shortened window the limit holds per window: scaled so the rate stays 3× LIMIT a minute.
  const limit = Math.round((LIMIT * o.windowMs) / 60_000);
  const [key] = await seed(o.controlPlaneUrl, 'ratelimit-fleet', o.upstreamPort, [{ requestsPerMinute: limit }]);
  const proxies: (KeygateProcess & { statusPort: number })[] = [];
  try {
    for (const name of ['ratelimit-fleet-a', 'ratelimit-fleet-b']) {
      const statusPort = await freePort();
      const p = await startProxyProcess({ name, databaseUrl: o.databaseUrl, redisPrefix: o.redisPrefix, cpu: null, logDir: o.logDir, env: { ...o.env, KEYGATE_STATUS_PORT: String(statusPort) } });
      proxies.push(Object.assign(p, { statusPort }));
    }
    // Both proxies count each other before the run (leases renew every second).
    await new Promise((r) => setTimeout(r, 1500));
    const commandsBefore = await Promise.all(proxies.map((p) => commandsSent(p.statusPort)));
    const perSecond = (3 * limit * 1000) / o.windowMs;
    const durationMs = o.windowMs * 1.5;
    const passedAt: number[] = [];
    let sent = 0;
    let refused = 0;
    const failures = new Map<string, number>();
    const inFlight = new Set<Promise<void>>();
    const started = performance.now();
    const send = (i: number) => {
      const port = proxies[i % 2]!.port;
      const p = fetch(`http://127.0.0.1:${port}/ratelimit-fleet/chat/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key!.secret },
        body: CHAT_BODY,
      })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status === 200) passedAt.push(performance.now() - started);
          else if (res.status === 429) refused++;
          else failures.set(String(res.status), (failures.get(String(res.status)) ?? 0) + 1);
        })
        .catch((error: unknown) => {
          const what = (error as Error & { cause?: { code?: string } }).cause?.code ?? 'error';
          failures.set(what, (failures.get(what) ?? 0) + 1);
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    // Open loop: every 5 ms, whatever is due by now.
    while (performance.now() - started < durationMs) {
      const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
      while (sent < due) send(sent++);
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(inFlight);
    const failed = [...failures.values()].reduce((a, b) => a + b, 0);
    const commandsAfter = await Promise.all(proxies.map((p) => commandsSent(p.statusPort)));
    const commands = commandsAfter.reduce((n, c, i) => n + c - commandsBefore[i]!, 0);

    passedAt.sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; i < passedAt.length; i++) {
      while (passedAt[i]! - passedAt[j]! >= o.windowMs) j++;
      most = Math.max(most, i - j + 1);
    }
    const firstWindow = passedAt.filter((t) => t < o.windowMs).length;
    const overshoot = Math.max(0, ((most - limit) / limit) * 100);
    o.log(
      `  two proxies, ${limit} per ${o.windowMs / 1000} s window, ${Math.round(perSecond)} req/s for ${durationMs / 1000} s: ${sent} sent, ${passedAt.length} passed, ${refused} refused, ${failed} failed (${[...failures].map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'}); most in any window ${most} (${overshoot.toFixed(2)} % over); first window ${firstWindow} (${((firstWindow / limit) * 100).toFixed(1)} %); ${commands} Redis commands (${(commands / sent).toFixed(4)} per request)`,
    );
    return {
      fleet_overshoot_pct: overshoot,
      redis_ops_per_request: sent > 0 ? commands / sent : 0,
      fleet_limit: limit,
      fleet_window_s: o.windowMs / 1000,
      fleet_most_in_window: most,
      steady_pass_pct: (firstWindow / limit) * 100,
      fleet_requests: sent,
      fleet_failed: failed,
      redis_commands: commands,
    };
  } finally {
    for (const p of proxies) await p.stop();
  }
}
