// Fleet (issue 18, item 4): mutation with confirmation when not 2 proxies but 20 and 200 hold
// leases. One `keygate control-plane` process; the proxies are
//   2    — real `keygate proxy` processes,
//   20   — real `keygate proxy` processes (lightweight consumers in --quick, to fit its time),
//   200  — lightweight feed consumers (bench/fleet-consumers.ts), FLEET_PER_PROCESS to a process,
//          each with its own Redis connections, consumer, lease and acks.
// Each size gets a fresh database and Redis prefix, then alternating link/unlink mutations of one
// key on one guarded deployment, one after the other, timed as the client sees them (the answer
// waits for every live proxy's ack). A mutation counts as confirmed only when the control plane
// expected the whole fleet and every member acked.
import { CreateApiKey, CreateDeployment, CreateProject, LinkApiKey, UnlinkApiKey } from '../test/helpers/operations.ts';
import { observeFeed } from './lib/feed-observer.ts';
import { freshDatabase, freshRedisPrefix, gql, profileArgs, REDIS_URL, startControlPlaneProcess, startProxyProcess } from './lib/keygate.ts';
import { baseEnv, type Child, cpuSeconds, ROOT, sleep, startNode } from './lib/procs.ts';
import { percentile } from './lib/stats.ts';

export interface FleetOptions {
  quick: boolean;
  upstreamPort: number;
  logDir: string;
  log: (line: string) => void;
}

const FLEET_PER_PROCESS = 50;
const WARMUP_ROUNDS = 10;

/** Lightweight members in processes of FLEET_PER_PROCESS; resolves once every lease is held. */
async function startLightweight(size: number, databaseUrl: string, redisPrefix: string, logDir: string): Promise<{ children: Child[]; proxyIds: string[] }> {
  const children: Child[] = [];
  for (let started = 0, i = 0; started < size; started += FLEET_PER_PROCESS, i++) {
    const count = Math.min(FLEET_PER_PROCESS, size - started);
    children.push(
      startNode({
        name: `fleet-${size}-consumers-${i + 1}`,
        script: `${ROOT}/bench/fleet-consumers.ts`,
        cpu: null,
        logDir,
        nodeArgs: profileArgs(),
        env: baseEnv({ COUNT: String(count), DATABASE_URL: databaseUrl, REDIS_URL, KEYGATE_REDIS_PREFIX: redisPrefix }),
      }),
    );
  }
  const ready = await Promise.all(children.map((c) => c.waitForLine((l) => l.startsWith('fleet ready '), 120_000)));
  return { children, proxyIds: ready.flatMap((line) => line.split(' ')[3]!.split(',')) };
}

async function measureFleet(size: number, real: boolean, rounds: number, options: FleetOptions) {
  const { upstreamPort, logDir, log } = options;
  const db = await freshDatabase();
  const prefix = freshRedisPrefix();
  const cp = await startControlPlaneProcess({ name: `fleet-${size}-control-plane`, databaseUrl: db.url, redisPrefix: prefix, cpu: null, logDir });
  const members: Child[] = [];
  const proxyIds: string[] = [];
  const observer = await observeFeed(prefix);
  try {
    const t0 = performance.now();
    if (real) {
      // A few at a time: twenty Node processes starting at once on two cores time out.
      for (let i = 0; i < size; i += 4) {
        const batch = Array.from({ length: Math.min(4, size - i) }, (_, j) =>
          startProxyProcess({ name: `fleet-${size}-proxy-${i + j + 1}`, databaseUrl: db.url, redisPrefix: prefix, cpu: null, logDir, readyTimeoutMs: 120_000 }),
        );
        for (const proxy of await Promise.all(batch)) {
          members.push(proxy);
          proxyIds.push(proxy.proxyId);
        }
      }
    } else {
      const fleet = await startLightweight(size, db.url, prefix, logDir);
      members.push(...fleet.children);
      proxyIds.push(...fleet.proxyIds);
    }
    const startSeconds = (performance.now() - t0) / 1000;

    const project = (await gql(cp.url, CreateProject, { slug: 'fleet', name: 'fleet' })).createProject.project;
    const key = (await gql(cp.url, CreateApiKey, { input: { projectId: project.id, name: 'fleet-key' } })).createApiKey;
    const deployment = (
      await gql(cp.url, CreateDeployment, {
        input: { projectId: project.id, name: 'churn', model: 'llama-3-8b', upstreamUrl: `http://127.0.0.1:${upstreamPort}`, authEnabled: true },
      })
    ).createDeployment.deployment;
    const input = { deploymentId: deployment.id, apiKeyId: key.apiKey.id };

    const ms: number[] = [];
    let announcementsBefore = 0;
    const splits: { toEvent: number; eventToLastAck: number; lastAckToAnswer: number }[] = [];
    let unconfirmed = 0;
    let short = 0;
    // CPU the control plane and the members spend on the measured mutations (less swayed by a busy machine than latency)
    const cpuOf = (children: readonly Child[]) => children.reduce((sum, c) => sum + cpuSeconds(c.pid), 0);
    let cpCpu = 0;
    let membersCpu = 0;
    for (let round = 0; round < WARMUP_ROUNDS + rounds; round++) {
      if (round === WARMUP_ROUNDS) {
        cpCpu = cpuOf([cp]);
        membersCpu = cpuOf(members);
      }
      const t = performance.now();
      const propagation =
        round % 2 === 0 ? (await gql(cp.url, LinkApiKey, { input })).linkApiKey.propagation : (await gql(cp.url, UnlinkApiKey, { input })).unlinkApiKey.propagation;
      const took = performance.now() - t;
      if (round < WARMUP_ROUNDS) {
        if (propagation.expected < size) await sleep(200); // leases still being taken
        announcementsBefore = observer.announcements();
        continue;
      }
      ms.push(took);
      const split = observer.split(propagation.revision, t, t + took);
      if (split) splits.push(split);
      if (propagation.expected !== size) short++;
      if (!propagation.confirmed || propagation.appliedBy !== propagation.expected) unconfirmed++;
    }
    const part = (f: keyof (typeof splits)[number], p: number) => percentile(splits.map((x) => x[f]), p);
    const r = {
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
      max: percentile(ms, 100),
      unconfirmed,
      short,
      cpCpuMs: ((cpuOf([cp]) - cpCpu) * 1000) / rounds,
      membersCpuMs: ((cpuOf(members) - membersCpu) * 1000) / rounds,
      // what every control plane hears per mutation (the floor announcements; before aggregated acks, one ack per proxy)
      messagesPerMutation: (observer.announcements() - announcementsBefore) / rounds,
      startSeconds,
      toEventP50: part('toEvent', 50),
      eventToLastAckP50: part('eventToLastAck', 50),
      eventToLastAckP99: part('eventToLastAck', 99),
      lastAckToAnswerP50: part('lastAckToAnswer', 50),
      lastAckToAnswerP99: part('lastAckToAnswer', 99),
    };
    log(`  ${String(size).padStart(3)} ${real ? 'proxy processes' : 'lightweight consumers'} (up in ${startSeconds.toFixed(1)} s): ${rounds} mutations p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  max ${r.max.toFixed(1)} ms  unconfirmed ${unconfirmed}  fleet not all live ${short}; CPU per mutation: control plane ${r.cpCpuMs.toFixed(2)} ms, members ${r.membersCpuMs.toFixed(2)} ms; ${r.messagesPerMutation.toFixed(2)} fleet messages per mutation; p50 = request→event ${r.toEventP50.toFixed(1)} + event→last ack ${r.eventToLastAckP50.toFixed(1)} (p99 ${r.eventToLastAckP99.toFixed(1)}) + last ack→answer ${r.lastAckToAnswerP50.toFixed(1)} (p99 ${r.lastAckToAnswerP99.toFixed(1)})`);
    return r;
  } finally {
    observer.stop();
    await Promise.allSettled(members.map((m) => m.stop()));
    await cp.stop();
  }
}

export async function runFleet(options: FleetOptions): Promise<Record<string, number>> {
  const { quick } = options;
  const rounds = quick ? 50 : 300;
  const out: Record<string, number> = {};
  for (const [size, real] of [
    [2, true],
    [20, !quick],
    [200, false],
  ] as const) {
    const r = await measureFleet(size, real, rounds, options);
    out[`mutation_p50_ms_${size}`] = r.p50;
    out[`mutation_p99_ms_${size}`] = r.p99;
    out[`mutation_max_ms_${size}`] = r.max;
    out[`unconfirmed_${size}`] = r.unconfirmed;
    out[`not_all_live_${size}`] = r.short;
    out[`real_processes_${size}`] = real ? 1 : 0;
    out[`control_plane_cpu_ms_per_mutation_${size}`] = r.cpCpuMs;
    out[`members_cpu_ms_per_mutation_${size}`] = r.membersCpuMs;
    out[`fleet_messages_per_mutation_${size}`] = r.messagesPerMutation;
    out[`fleet_start_seconds_${size}`] = r.startSeconds;
    out[`request_to_event_p50_ms_${size}`] = r.toEventP50;
    out[`event_to_last_ack_p50_ms_${size}`] = r.eventToLastAckP50;
    out[`event_to_last_ack_p99_ms_${size}`] = r.eventToLastAckP99;
    out[`last_ack_to_answer_p50_ms_${size}`] = r.lastAckToAnswerP50;
    out[`last_ack_to_answer_p99_ms_${size}`] = r.lastAckToAnswerP99;
  }
  out.rounds = rounds;
  return out;
}
