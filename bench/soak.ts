// Soak: a control plane and a proxy as real processes on Postgres and Redis, a steady open-loop
// load at a fixed rate through the proxy, and link/unlink churn with a check right after every
// mutation. Samples RSS and open file descriptors of both processes; prints one JSON summary.
//   npx tsx bench/soak.ts [--minutes 30] [--rate N]   (rate default: half of keygate_rps in
//   bench/results.json, or 1000)
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { CreateApiKey, CreateDeployment, CreateProject, LinkApiKey, UnlinkApiKey } from '../test/helpers/operations.ts';
import { cleanupAll, guardRun, onCleanup } from './lib/cleanup.ts';
import { freshDatabase, freshRedisPrefix, gql, startControlPlaneProcess, startProxyProcess } from './lib/keygate.ts';
import { startNode, sleep } from './lib/procs.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string' }, rate: { type: 'string' } } });
const minutes = Number(values.minutes ?? 30);
const defaultRate = (() => {
  try {
    return Math.round(JSON.parse(readFileSync(new URL('results.json', import.meta.url), 'utf8')).proxy.keygate_rps / 2);
  } catch {
    return 1000;
  }
})();
const rate = Number(values.rate ?? defaultRate);

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

async function main() {
  const stopGuard = guardRun((minutes + 5) * 60_000);
  const logDir = mkdtempSync(join(tmpdir(), 'keygate-soak-'));
  const db = await freshDatabase();
  const prefix = freshRedisPrefix();
  const upstream = startNode({ name: 'upstream', script: new URL('upstream.ts', import.meta.url).pathname, cpu: null, env: { PORT: '0' }, logDir, nodeArgs: ['--import', 'tsx'] });
  onCleanup('upstream', () => upstream.stop());
  const upstreamPort = Number((await upstream.waitForLine((l) => l.startsWith('listening'), 30_000)).split(' ')[1]);
  const cp = await startControlPlaneProcess({ name: 'control-plane', databaseUrl: db.url, redisPrefix: prefix, cpu: null, logDir });
  onCleanup('control plane', () => cp.stop());
  const proxy = await startProxyProcess({ name: 'proxy', databaseUrl: db.url, redisPrefix: prefix, cpu: null, logDir });
  onCleanup('proxy', () => proxy.stop());

  const project = (await gql(cp.url, CreateProject, { slug: 'soak' })).createProject.project;
  const steady = (await gql(cp.url, CreateApiKey, { input: { projectId: project.id, name: 'steady-key' } })).createApiKey;
  const churn = (await gql(cp.url, CreateApiKey, { input: { projectId: project.id, name: 'churn-key' } })).createApiKey;
  const deployment = (
    await gql(cp.url, CreateDeployment, {
      input: { projectId: project.id, name: 'soak', model: 'llama-3-8b', upstreamUrl: `http://127.0.0.1:${upstreamPort}`, authEnabled: true, apiKeyIds: [steady.apiKey.id] },
    })
  ).createDeployment.deployment;

  const pool = new Pool(`http://127.0.0.1:${proxy.port}`, { connections: 32, pipelining: 1 });
  onCleanup('load pool', () => pool.close());
  const path = '/soak/soak/v1/chat/completions';
  const body = JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'hi' }] });
  const call = async (key: string) => {
    const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json', 'x-api-key': key }, body });
    await res.body.dump();
    return res.statusCode;
  };

  const endAt = Date.now() + minutes * 60_000;
  const warmupEnd = Date.now() + Math.max(60_000, minutes * 6_000);
  const counts = { sent: 0, ok: 0, errors: 0, churnRounds: 0, stale: 0, unconfirmed: 0 };

  // Steady load: `rate` requests per second, spread over 10 ms ticks, never waiting for answers.
  const load = (async () => {
    let due = 0;
    const started = Date.now();
    while (Date.now() < endAt) {
      const should = Math.floor(((Date.now() - started) / 1000) * rate);
      for (; due < should; due++) {
        counts.sent++;
        call(steady.secret).then(
          (status) => (status === 200 ? counts.ok++ : counts.errors++),
          () => counts.errors++,
        );
      }
      await sleep(10);
    }
  })();

  // Churn: link/unlink a second key; the very next request must see the change.
  const churnLoop = (async () => {
    let linked = false;
    while (Date.now() < endAt) {
      const input = { deploymentId: deployment.id, apiKeyId: churn.apiKey.id };
      linked = !linked;
      const p = linked
        ? (await gql(cp.url, LinkApiKey, { input })).linkApiKey.propagation
        : (await gql(cp.url, UnlinkApiKey, { input })).unlinkApiKey.propagation;
      if (!p.confirmed) counts.unconfirmed++;
      const status = await call(churn.secret).catch(() => 0);
      if (status !== (linked ? 200 : 401)) counts.stale++;
      counts.churnRounds++;
      await sleep(250);
    }
  })();

  const samples: { t: number; proxyRss: number; cpRss: number; proxyFds: number; cpFds: number }[] = [];
  while (Date.now() < endAt) {
    samples.push({ t: Date.now(), proxyRss: rss(proxy.pid), cpRss: rss(cp.pid), proxyFds: fds(proxy.pid), cpFds: fds(cp.pid) });
    const s = samples.at(-1)!;
    process.stderr.write(
      `soak ${((s.t - (endAt - minutes * 60_000)) / 60_000).toFixed(1)} min: sent ${counts.sent}, errors ${counts.errors}, stale ${counts.stale}/${counts.churnRounds}, proxy ${s.proxyRss.toFixed(0)} MB ${s.proxyFds} fds, control plane ${s.cpRss.toFixed(0)} MB ${s.cpFds} fds\n`,
    );
    await sleep(10_000);
  }
  await Promise.all([load, churnLoop]);
  await sleep(2000); // let the last answers arrive

  const after = samples.filter((s) => s.t >= warmupEnd);
  const base = after[0] ?? samples[0]!;
  const last = samples.at(-1)!;
  const growth = (a: number, b: number) => Math.round(((b - a) / a) * 1000) / 10;
  const summary = {
    minutes,
    rate,
    sent: counts.sent,
    ok: counts.ok,
    errors: counts.errors,
    error_rate_pct: Math.round((counts.errors / Math.max(1, counts.sent)) * 100_000) / 1000,
    churn_rounds: counts.churnRounds,
    stale_decisions: counts.stale,
    unconfirmed_mutations: counts.unconfirmed,
    proxy_rss_mb: { after_warmup: Math.round(base.proxyRss), end: Math.round(last.proxyRss), growth_pct: growth(base.proxyRss, last.proxyRss) },
    control_plane_rss_mb: { after_warmup: Math.round(base.cpRss), end: Math.round(last.cpRss), growth_pct: growth(base.cpRss, last.cpRss) },
    proxy_fds: { after_warmup: base.proxyFds, end: last.proxyFds, max: Math.max(...after.map((s) => s.proxyFds)) },
    control_plane_fds: { after_warmup: base.cpFds, end: last.cpFds, max: Math.max(...after.map((s) => s.cpFds)) },
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  stopGuard();
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`soak failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
