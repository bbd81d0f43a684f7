// keygate's benchmark suite (issues 5 and 18): `npm run bench` (≤ 20 minutes) or
// `npm run bench -- --quick` (≤ 5 minutes). Writes bench/results.json and bench/results.md, prints the Performance table, and after a full run puts it in the README (between its bench markers).
//
//   npm run bench [-- --quick] [--only proxy,streams,propagation,fleet,scale,subscriptions,usage,lifecycle,ratelimit] [--cpu-prof]
//
// --cpu-prof runs every keygate process with node --cpu-prof into bench/profiles/.
//
// Needs Postgres and Redis on 127.0.0.1 (TEST_POSTGRES_URL / TEST_REDIS_URL as for the tests),
// wrk and nginx (installed with apt-get when missing and running as root), two cores or more.
// Everything it starts (processes, databases, Redis keys, temp files) is removed at the end, also
// on failure, on Ctrl-C and when the run overstays its bound. Never part of `npm test`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanupAll, guardRun, onCleanup } from './lib/cleanup.ts';
import { profileKeygateInto } from './lib/keygate.ts';
import { baseEnv, CORES, loadAverage, raiseFileLimit, raisePriority, ROOT, startNode } from './lib/procs.ts';
import { earlierSections, publishToReadme } from './lib/publish.ts';
import { markdown, normalize, type Section } from './lib/report.ts';
import { runFleet } from './fleet.ts';
import { runLifecycle } from './lifecycle.ts';
import { runPropagation } from './propagation.ts';
import { runProxyOverhead } from './proxy-overhead.ts';
import { runScale } from './scale.ts';
import { runStreams } from './streams.ts';
import { runUsage } from './usage.ts';
import { runRateLimit } from './ratelimit.ts';

const SECTIONS = ['proxy', 'streams', 'propagation', 'fleet', 'scale', 'subscriptions', 'usage', 'lifecycle', 'ratelimit'] as const;
type SectionName = (typeof SECTIONS)[number];

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, 'cpu-prof': { type: 'boolean', default: false } } });
const quick = args.quick ?? false;
const only = new Set((args.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim()) as SectionName[]);
const command = `npm run bench${quick ? ' -- --quick' : ''}${args.only ? `${quick ? '' : ' --'} --only ${args.only}` : ''}`;
// The targets are 5 and 20 minutes; the hard stop (everything cleaned up, non-zero exit) is later,
// so that a slow, shared machine still gets its figures written.
const limitMs = quick ? 480_000 : 1_800_000;
const started = Date.now();
const log = (line: string) => process.stdout.write(`${line}\n`);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

function which(binary: string): string | null {
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', ...(process.env.PATH ?? '').split(':')]) {
    if (dir && existsSync(join(dir, binary))) return join(dir, binary);
  }
  return null;
}

/** wrk and nginx from Debian's packages when they are missing (root only). */
function ensureTools(notes: string[]): { wrk: string; nginx: string | null } {
  const missing = [['wrk', 'wrk'], ['nginx', 'nginx-light']].filter(([bin]) => !which(bin!)).map(([, pkg]) => pkg!);
  if (missing.length > 0 && process.getuid?.() === 0) {
    log(`installing ${missing.join(', ')} with apt-get`);
    const apt = (a: string[]) => execFileSync('apt-get', a, { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 180_000 });
    try {
      apt(['install', '-y', '-qq', ...missing]);
    } catch {
      try {
        apt(['update', '-qq']);
        apt(['install', '-y', '-qq', ...missing]);
      } catch (error) {
        notes.push(`apt-get install ${missing.join(' ')} failed: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }
  const wrk = which('wrk');
  if (!wrk) throw new Error('wrk is missing: apt-get install -y wrk');
  const nginx = which('nginx');
  if (!nginx) notes.push('nginx is missing (apt-get install -y nginx-light): the nginx reference was not measured');
  return { wrk, nginx };
}

/** bench/subscriptions.ts is written separately: a script (`tsx bench/subscriptions.ts [subscribers]
 *  [rounds]`) that prints its figures to stderr and one JSON document to stdout. Run as a child
 *  process, bounded in time; its stderr goes to the log and the console. */
async function runSubscriptions(logDir: string, notes: string[]): Promise<Section | null> {
  const file = join(ROOT, 'bench/subscriptions.ts');
  if (!existsSync(file)) {
    notes.push('bench/subscriptions.ts does not exist yet: the subscriptions figures are zeros');
    return null;
  }
  const child = startNode({ name: 'subscriptions', script: file, args: ['1000', quick ? '3' : '5'], cpu: null, env: baseEnv(), logDir, separateStdout: true });
  const code = await Promise.race([child.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), quick ? 60_000 : 180_000).unref())]);
  await child.stop();
  for (const line of child.lines) log(`  ${line}`);
  const stdout = child.stdout.join('\n');
  let doc: { subscribers?: number; rounds?: number; deliveryMs?: Record<string, number>; perRound?: { mutationMs?: number }[] };
  try {
    doc = JSON.parse(stdout.slice(stdout.indexOf('{')));
  } catch {
    throw new Error(`bench/subscriptions.ts printed no JSON (exit ${code}; log: ${child.logFile})`);
  }
  const d = doc.deliveryMs ?? {};
  const mutations = (doc.perRound ?? []).map((r) => r.mutationMs ?? 0).sort((a, b) => a - b);
  return {
    subscribers: doc.subscribers ?? 0,
    delivery_p50_ms: d.p50 ?? 0,
    delivery_p99_ms: d.p99 ?? 0,
    rounds: doc.rounds ?? 0,
    delivery_max_ms: d.max ?? 0,
    deliveries: d.n ?? 0,
    mutation_median_ms: mutations[mutations.length >> 1] ?? 0,
  };
}

async function main(): Promise<number> {
  const stopGuard = guardRun(limitMs);
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'keygate-bench-'));
  onCleanup(`temp dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const logDir = join(dir, 'logs');
  execFileSync('mkdir', ['-p', logDir]);
  const machine: Section = { cores: CORES.cores, loadavg_start: loadAverage() };
  const raw: Partial<Record<string, Section>> = { machine };
  const ran: Record<string, boolean> = {};
  let failures = 0;
  try {
    if (args['cpu-prof']) {
      const profiles = join(ROOT, 'bench/profiles');
      profileKeygateInto(profiles);
      notes.push(`keygate processes ran with --cpu-prof (profiles in bench/profiles; figures are slower than without)`);
    }
    const tools = ensureTools(notes);
    const nice = raisePriority();
    machine.nice = nice;
    machine.open_files_limit = raiseFileLimit();
    if (CORES.cores < 2) notes.push('one core only: load generator, upstream and proxies share it');
    log(`keygate bench${quick ? ' --quick' : ''}: ${CORES.cores} cores; load generator and upstream on CPU ${CORES.load}, proxy under test on CPU ${CORES.proxy}; logs in ${logDir}`);

    const upstream = startNode({ name: 'upstream', script: join(ROOT, 'bench/upstream.ts'), cpu: CORES.upstream, env: baseEnv({ PORT: '0' }), logDir });
    const upstreamPort = Number((await upstream.waitForLine((l) => l.startsWith('listening '), 20_000)).split(' ')[1]);

    const section = async (name: SectionName, run: () => Promise<Section | null>) => {
      if (!only.has(name)) return;
      log(`\n## ${name} (${elapsed()}, load average ${loadAverage()})`);
      const t0 = Date.now();
      const loadBefore = loadAverage();
      try {
        const result = await run();
        if (result) {
          raw[name] = result;
          ran[name] = true;
        }
        machine[`${name}_seconds`] = (Date.now() - t0) / 1000;
        machine[`${name}_loadavg_before`] = loadBefore;
        machine[`${name}_loadavg_after`] = loadAverage();
      } catch (error) {
        failures++;
        notes.push(`${name} failed: ${(error as Error).message}`);
        log(`  FAILED: ${(error as Error).stack ?? error}`);
      }
    };
    await section('proxy', () => runProxyOverhead({ quick, upstream: { port: upstreamPort, pid: upstream.pid }, nginxBinary: tools.nginx, dir, logDir, log }));
    await section('streams', () => runStreams({ quick, nginxBinary: tools.nginx, dir, logDir, log }));
    await section('propagation', () => runPropagation({ quick, upstreamPort, logDir, log }));
    await section('fleet', () => runFleet({ quick, upstreamPort, logDir, log }));
    await section('scale', () => runScale({ quick, upstreamPort, dir, logDir, log }));
    await section('subscriptions', () => runSubscriptions(logDir, notes));
    await section('usage', () => runUsage({ quick, upstreamPort, dir, logDir, log }));
    await section('lifecycle', () => runLifecycle({ quick, upstreamPort, dir, logDir, log }));
    await section('ratelimit', () => runRateLimit({ quick, upstreamPort, dir, logDir, log }));
    await upstream.stop();
  } catch (error) {
    failures++;
    notes.push(`the run failed: ${(error as Error).message}`);
    log(`FAILED: ${(error as Error).stack ?? error}`);
  }

  machine.loadavg_end = loadAverage();
  machine.total_seconds = (Date.now() - started) / 1000;
  // --only: the other sections keep their figures from the results.json already there.
  const results = normalize(args.only ? { ...earlierSections(ROOT, only), ...raw } : raw);
  notes.unshift(
    `Pinning (taskset): wrk / the fixed-rate generator and the upstream on CPU ${CORES.load}, each proxy under test (bare Node, keygate, nginx) on CPU ${CORES.proxy}; propagation and subscription processes unpinned. Every process of the benchmark runs at nice ${machine.nice ?? 0} (raised as root; Postgres and Redis are not). CPU per request: utime+stime deltas of the proxy process (nginx: master + worker) from /proc/PID/stat over each run.`,
  );
  notes.push(`Total time: ${elapsed()}.`);
  notes.push(`The machine is shared: 1-minute load average ${machine.loadavg_start} at the start, ${machine.loadavg_end} at the end (2 cores); other sessions' work inflates latencies and lowers throughputs, while CPU time per request and the ratios measured side by side are less affected.`);
  const description = `${CORES.cores} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}`;
  const md = markdown(results, ran, { command, quick, machine: description, date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', notes });
  writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(ROOT, 'bench/results.md'), md);
  log(`\n${md}`);
  const toReadme = !quick && !args.only && failures === 0 && publishToReadme(ROOT, md);
  log(`Wrote bench/results.json${toReadme ? ', bench/results.md and the README table' : ' and bench/results.md'}. Reproduce with: ${command}`);
  await cleanupAll();
  stopGuard();
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
