// The keygate command as a user runs it: real processes with a clean environment, and free ports.
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export const BIN = new URL('../../bin/keygate.mjs', import.meta.url).pathname;

/** Only what a shell would pass, plus the given variables: nothing leaks in from the test runner. */
export const cliEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/tmp',
  // The status listener defaults to the proxy port + 1, which another test's ephemeral port may
  // hold while tests run in parallel: tests let the system choose it unless they name one.
  KEYGATE_STATUS_PORT: '0',
  ...extra,
});

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `keygate …` to completion; resolves with its exit code and output, whatever the code. */
export function keygate(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: cliEnv(env), cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface KeygateProcess {
  pid: number;
  /** the control plane's base URL, when the mode runs one */
  url: string | null;
  /** the proxy's base URL, when the mode runs one */
  proxy: string | null;
  readonly output: string;
  /** SIGTERM (or another signal); resolves with the exit code */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `keygate <args>` and waits until it printed where it listens. */
export async function startKeygateProcess(args: string[], env: Record<string, string>): Promise<KeygateProcess> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? null : 0))));
  const wantsControlPlane = args[0] !== 'proxy';
  const wantsProxy = args[0] !== 'control-plane';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keygate ${args.join(' ')} did not start in time:\n${output}`)), 120_000);
    const check = () => {
      if ((!wantsControlPlane || /Dashboard:\s+\S+/.test(output)) && (!wantsProxy || /Proxy:\s+\S+/.test(output))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', (d) => {
      output += d;
      check();
    });
    child.stderr.on('data', (d) => (output += d));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`keygate ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
  return {
    pid: child.pid!,
    url: /Dashboard:\s+(\S+?)\/?\n/.exec(output)?.[1] ?? null,
    proxy: /Proxy:\s+(\S+)/.exec(output)?.[1] ?? null,
    get output() {
      return output;
    },
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise((resolve) => server.close(resolve));
  return free;
}

/** A chat completion through the proxy: the status, with or without an API key. */
export async function callModel(endpoint: string, secret?: string): Promise<number> {
  const res = await fetch(`${endpoint}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { 'x-api-key': secret } : {}) },
    body: JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'Hello' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}
