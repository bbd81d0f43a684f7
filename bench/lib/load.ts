// One measured run against one target: closed loop (wrk) or open loop at a fixed rate (our own
// generator in its own process), with the CPU time the target's process spent during the run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenLoopConfig, OpenLoopResult } from './open-loop.ts';
import { baseEnv, CORES, coreBusySeconds, ROOT, startNode } from './procs.ts';
import { type LoadRequest, runWrk, writeWrkScript } from './wrk.ts';

export interface Target {
  name: string;
  port: number;
  requests: LoadRequest[];
  /** CPU seconds used so far by the process(es) under measurement */
  cpuSeconds(): number;
  /** wrk's Lua script, written once */
  script?: string;
}

export interface ClosedRun {
  rps: number;
  cpuUsPerReq: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** status ≥ 400 */
  statusErrors: number;
  socketErrors: number;
  /** share of the proxy core that other processes used during the run (0–1) */
  foreignShare: number;
}

export interface OpenRun extends OpenLoopResult {
  cpuUsPerReq: number;
  /** share of the proxy core that other processes used during the run (0–1) */
  foreignShare: number;
}

/** Runs with more of the proxy core taken by other processes than this are left out of the
 *  medians when cleaner runs of the same target exist (the machine is shared). */
export const MAX_FOREIGN_SHARE = 0.25;

/** The runs to take medians of: the clean ones when there are any, else all. */
export function cleanRuns<T extends { foreignShare: number }>(runs: readonly T[]): T[] {
  const clean = runs.filter((r) => r.foreignShare <= MAX_FOREIGN_SHARE);
  return clean.length > 0 ? clean : [...runs];
}

export async function closedLoop(target: Target, options: { seconds: number; connections: number; cpu: string; dir: string }): Promise<ClosedRun> {
  target.script ??= writeWrkScript(options.dir, `wrk-${target.name}`, target.requests);
  const before = target.cpuSeconds();
  const busyBefore = coreBusySeconds(CORES.proxy);
  const r = await runWrk({ url: `http://127.0.0.1:${target.port}`, script: target.script, seconds: options.seconds, connections: options.connections, cpu: options.cpu });
  const cpu = target.cpuSeconds() - before;
  const busy = coreBusySeconds(CORES.proxy) - busyBefore;
  return {
    foreignShare: r.seconds > 0 ? Math.max(0, busy - cpu) / r.seconds : 0,
    rps: r.rps,
    cpuUsPerReq: r.requests > 0 ? (cpu / r.requests) * 1e6 : 0,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    requests: r.requests,
    statusErrors: r.statusErrors,
    socketErrors: r.socketErrors,
  };
}

let openLoopRuns = 0;

export async function openLoop(
  target: Target,
  options: { rate: number; seconds: number; warmupSeconds: number; connections: number; cpu: string; dir: string; logDir: string },
): Promise<OpenRun> {
  const config: OpenLoopConfig = {
    host: '127.0.0.1',
    port: target.port,
    requests: target.requests,
    rate: options.rate,
    connections: options.connections,
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
  };
  const file = join(options.dir, `open-loop-${target.name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = startNode({ name: `open-loop-${target.name}-${++openLoopRuns}`, script: join(ROOT, 'bench/lib/open-loop.ts'), args: [file], cpu: options.cpu, env: baseEnv(), logDir: options.logDir });
  // CPU from when the schedule starts would be more exact; the warm-up's requests are counted too.
  const before = target.cpuSeconds();
  const busyBefore = coreBusySeconds(CORES.proxy);
  const startedAt = performance.now();
  const line = await child.waitForLine((l) => l.startsWith('OPEN_LOOP_JSON '), (options.seconds + options.warmupSeconds + 30) * 1000);
  const cpu = target.cpuSeconds() - before;
  const busy = coreBusySeconds(CORES.proxy) - busyBefore;
  const wall = (performance.now() - startedAt) / 1000;
  await child.stop();
  const result = JSON.parse(line.slice('OPEN_LOOP_JSON '.length)) as OpenLoopResult;
  return { ...result, cpuUsPerReq: result.sent > 0 ? (cpu / result.sent) * 1e6 : 0, foreignShare: wall > 0 ? Math.max(0, busy - cpu) / wall : 0 };
}
