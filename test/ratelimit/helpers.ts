// Rate-limit tests' parts: an OpenAI-compatible upstream that counts what reaches it and reports
// a fixed number of tokens per response, proxy processes of their own, and a client call.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestKeygate } from '../helpers/keygate.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BIN = new URL('../../bin/keygate.mjs', import.meta.url).pathname;

export interface CountingUpstream {
  url: string;
  /** requests that reached it */
  seen: number;
  stop(): Promise<void>;
}

/** Answers every request with a chat completion whose usage is `tokens` in all (1/3 prompt). */
export async function startCountingUpstream(tokens = 300): Promise<CountingUpstream> {
  const state = { seen: 0 };
  const prompt = Math.floor(tokens / 3);
  const body = JSON.stringify({
    id: 'chatcmpl-rl',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: prompt, completion_tokens: tokens - prompt, total_tokens: tokens },
  });
  const server = http.createServer((req, res) => {
    state.seen++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get seen() {
      return state.seen;
    },
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface ProxyProcess {
  port: number;
  statusPort: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A `keygate proxy` process; ready when this resolves. */
export async function startProxyProcess(env: Record<string, string>): Promise<ProxyProcess> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const statusPort = port + 1;
  const child = spawn(process.execPath, [BIN, 'proxy'], {
    env: { PATH: process.env.PATH ?? '', ...env, KEYGATE_PROXY_PORT: String(port), KEYGATE_STATUS_PORT: String(statusPort), LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  };
  for (let i = 0; i < 400; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/-/readyz`).catch(() => null);
    if (res?.status === 200) return { port, statusPort, child, stop };
    await sleep(50);
  }
  await stop();
  throw new Error(`proxy on ${port} did not become ready`);
}

export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/** One chat completion through a proxy with the key. */
export async function call(port: number, projectSlug: string, secret: string): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}/${projectSlug}/chat/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** Sets a key's limits (null: removes them). */
export async function setLimits(kg: TestKeygate, id: string, rateLimit: { requestsPerMinute?: number | null; tokensPerMinute?: number | null } | null) {
  const r = await kg.gql(`mutation($input: UpdateApiKeyInput!) { updateApiKey(input: $input) { apiKey { rateLimit { requestsPerMinute tokensPerMinute } } } }`, {
    input: { id, rateLimit },
  });
  if (!r.data) throw new Error(`updateApiKey failed: ${JSON.stringify(r.errors)}`);
  return r.data.updateApiKey.apiKey.rateLimit as { requestsPerMinute: number | null; tokensPerMinute: number | null } | null;
}

/** A metric's value from a proxy's status listener (0 when absent). */
export async function metric(statusPort: number, line: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ').at(-1)) : 0;
}
