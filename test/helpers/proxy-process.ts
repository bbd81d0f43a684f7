// A `keygate proxy` child process for the tests that need real separate proxies (fleet, replicas,
// SIGTERM/SIGKILL). Its ports are chosen by the OS (port 0) and read from its own "listening" log
// lines, so parallel test files never collide on a port; a proxy that exits before it is ready
// fails at once, with its output in the error.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitForReadiness } from './keygate.ts';

const BIN = new URL('../../bin/keygate.mjs', import.meta.url).pathname;

export interface ProxyProcess {
  port: number;
  /** the status listener (/metrics, /healthz) */
  statusPort: number;
  child: ChildProcess;
  exited: Promise<unknown>;
  /** SIGKILL (when still running), resolved once it has exited */
  stop(): Promise<void>;
}

/** Starts `keygate proxy` with `env` (DATABASE_URL, REDIS_URL, KEYGATE_REDIS_PREFIX…); resolves once it is ready. */
export async function startProxyProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [BIN, 'proxy'], {
    // info: the listening lines carry the ports; the rest of the output is kept for an error only
    env: { PATH: process.env.PATH ?? '', ...env, KEYGATE_PROXY_PORT: '0', KEYGATE_STATUS_PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const output: string[] = [];
  const ports = new Promise<{ port: number; statusPort: number }>((resolve, reject) => {
    let port = 0;
    let statusPort = 0;
    const onLine = (line: string) => {
      if (output.length < 200) output.push(line);
      if (!line.includes('listening')) return;
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'proxy listening') port = entry.port ?? 0;
        else if (entry.msg?.startsWith('status listener')) statusPort = entry.port ?? 0;
      } catch {
        return;
      }
      if (port && statusPort) resolve({ port, statusPort });
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    void exited.then(() => reject(new Error(`keygate proxy exited before it listened:\n${output.join('\n')}`)));
  });
  try {
    const { port, statusPort } = await withTimeout(ports, timeoutMs, () => `keygate proxy did not listen within ${timeoutMs} ms:\n${output.join('\n')}`);
    await waitForReadiness(port, timeoutMs);
    return { port, statusPort, child, exited, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
