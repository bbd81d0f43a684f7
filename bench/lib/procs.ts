// Child processes for the benchmark: started pinned to a core (taskset), their output kept in a
// log file and in memory, stopped on cleanup. CPU time and memory come from /proc.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { availableParallelism, getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.ts';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/** Clock ticks per second of utime/stime in /proc/PID/stat. */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Which cores get what. With two or more: the load generator and the upstream share core 0 and
 *  the proxy under test has core 1 to itself. With one, everything shares it. */
export const CORES = (() => {
  const n = availableParallelism();
  return n >= 2 ? { load: '0', upstream: '0', proxy: '1', cores: n } : { load: '0', upstream: '0', proxy: '0', cores: n };
})();

/** As root, the benchmark raises its own priority to nice -10 at start and every process it starts
 *  inherits it: on a machine shared with other work, the processes under measurement get their
 *  core when they want it, without touching anyone else's process. Returns the nice value. */
export function raisePriority(): number {
  try {
    setPriority(0, -10);
  } catch {
    // not root: measured at the normal priority
  }
  return getPriority(0);
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** every line the child wrote to stdout and stderr so far (bounded) */
  readonly lines: string[];
  /** with separateStdout: stdout's lines, kept apart from `lines` (then stderr only) */
  readonly stdout: string[];
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  /** calls `listener` with every line from now on; returns the way to stop */
  onLine(listener: (line: string) => void): () => void;
  /** resolves with the first line matching, or rejects after timeoutMs or when the child exits */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<string>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const MAX_LINES = 20_000;

/** Starts `command args` pinned to `cpu` (a taskset list, or null for unpinned). */
export function startProcess(options: {
  name: string;
  command: string;
  args: string[];
  cpu: string | null;
  env: Record<string, string>;
  logDir: string;
  separateStdout?: boolean;
}): Child {
  const { name, command, args, cpu, env, logDir } = options;
  const argv = cpu === null ? [command, ...args] : ['taskset', '-c', cpu, command, ...args];
  // taskset execs the command, so the pid is the process under measurement.
  const proc = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const lines: string[] = [];
  const stdout: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const reader = (into: string[]) => {
    let partial = '';
    return (chunk: Buffer) => {
      log.write(chunk);
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (into.length < MAX_LINES) into.push(line);
        for (const w of watchers) w(line);
      }
    };
  };
  const onData = reader(lines);
  proc.stdout!.on('data', options.separateStdout ? reader(stdout) : onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  void exited.then(() => log.end());

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const killed = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
    clearTimeout(timer);
    if (killed) {
      proc.kill('SIGKILL');
      await exited;
    }
  };
  const undo = onCleanup(`process ${name} (${proc.pid})`, () => stop());

  return {
    name,
    pid: proc.pid,
    proc,
    lines,
    stdout,
    logFile,
    exited,
    onLine(listener) {
      const watch = (line: string) => listener(line);
      watchers.add(watch);
      return () => watchers.delete(watch);
    },
    waitForLine(test, timeoutMs) {
      const found = lines.find(test);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const done = (error: Error | null, line?: string) => {
          clearTimeout(timer);
          watchers.delete(watch);
          if (error) reject(error);
          else resolve(line!);
        };
        const watch = (line: string) => test(line) && done(null, line);
        const timer = setTimeout(() => done(new Error(`${name}: no expected output within ${timeoutMs} ms (log: ${logFile})`)), timeoutMs);
        watchers.add(watch);
        void exited.then((code) => done(new Error(`${name} exited (${code}) before the expected output (log: ${logFile})`)));
      });
    },
    stop: (signal, graceMs) => stop(signal, graceMs).then(undo),
  };
}

/** A node process running a TypeScript file through tsx's loader (one process, no wrapper). */
export function startNode(options: { name: string; script: string; args?: string[]; cpu: string | null; env: Record<string, string>; logDir: string; nodeArgs?: string[]; separateStdout?: boolean }): Child {
  return startProcess({
    separateStdout: options.separateStdout,
    name: options.name,
    command: process.execPath,
    args: [...(options.nodeArgs ?? []), '--import', 'tsx', options.script, ...(options.args ?? [])],
    cpu: options.cpu,
    env: options.env,
    logDir: options.logDir,
  });
}

/** A minimal environment for children: nothing of ours leaks into their configuration. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8' };
  // Where the services are, as the tests are told.
  for (const name of ['TEST_POSTGRES_URL', 'TEST_REDIS_URL']) if (process.env[name]) env[name] = process.env[name]!;
  return { ...env, ...extra };
}

/** utime + stime of a process in seconds (all its threads). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name can hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Busy seconds (everything but idle and iowait) of one core so far, from /proc/stat. */
export function coreBusySeconds(cpu: string): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return 0;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - f[3]! - f[4]!) / CLK_TCK;
}

/** The 1-minute load average: how busy the shared machine was. */
export const loadAverage = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** The children of a process (nginx's workers). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of a process and its direct children. */
export function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid);
  for (const child of childPids(pid)) {
    try {
      total += cpuSeconds(child);
    } catch {
      // a worker that just exited
    }
  }
  return total;
}

/** VmRSS and VmHWM (peak) of a process in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** RSS in MB of a process and its direct children (nginx: master + worker). */
export function treeRssMb(pid: number): number {
  let total = memoryMb(pid).rss;
  for (const child of childPids(pid)) {
    try {
      total += memoryMb(child).rss;
    } catch {
      // a worker that just exited
    }
  }
  return total;
}

/** Raises this process's open-file limit (as root, to `wanted`; else to its hard limit): every
 *  process started afterwards inherits it, so thousands of open streams fit. Returns the limit. */
export function raiseFileLimit(wanted = 1_048_576): number {
  const limits = () => readFileSync('/proc/self/limits', 'utf8');
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits())?.[1] ?? '';
  for (const limit of [`${wanted}:${wanted}`, `${hard}:${hard}`]) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limit}`], { stdio: 'ignore' });
      break;
    } catch {
      // not root (or no prlimit): try the soft limit up to the hard one
    }
  }
  return Number(/^Max open files\s+(\d+)/m.exec(limits())?.[1] ?? 0);
}

/** A port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns true, or throws after timeoutMs. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await Promise.resolve().then(check).catch(() => false)) return;
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** Waits until GET url answers `status`. */
export function waitForHttp(url: string, status = 200, timeoutMs = 30_000): Promise<void> {
  return waitUntil(
    `GET ${url} → ${status}`,
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === status;
    },
    timeoutMs,
  );
}
