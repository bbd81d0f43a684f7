// Rate-limit tests' parts: an OpenAI-compatible upstream that counts what reaches it and reports
// a fixed number of tokens per response, and a client call (proxy processes: ../helpers/proxy-process.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestKeygate } from '../helpers/keygate.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** A key's use, as the API reads it from the fleet's shared counts. */
export async function rateLimitUsage(kg: TestKeygate, id: string): Promise<{ requests: number; tokens: number; resetsAt: string }> {
  const r = await kg.gql(`query($id: ID!) { node(id: $id) { ... on ApiKey { rateLimitUsage { requests tokens resetsAt } } } }`, { id });
  if (!r.data?.node) throw new Error(`rateLimitUsage failed: ${JSON.stringify(r.errors)}`);
  return (r.data.node as { rateLimitUsage: { requests: number; tokens: number; resetsAt: string } }).rateLimitUsage;
}

/** A metric's value from a proxy's status listener (0 when absent). */
export async function metric(statusPort: number, line: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ').at(-1)) : 0;
}
