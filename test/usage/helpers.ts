// An OpenAI-compatible upstream that reports known token counts, for the usage tests. The counts
// come from the request: a user message "tokens P C" answers with prompt_tokens P and
// completion_tokens C. Streams carry usage in a last chunk only when the client asked for it
// (stream_options.include_usage), as OpenAI and vLLM do; `x-test-split-usage: 1` sends that chunk
// in pieces a few milliseconds apart (separate TCP writes). Other routes: /v1/fail answers 500,
// /v1/big answers a 10 MB JSON body (a fixed pseudo-random content, with usage at its end),
// /v1/gzip answers a gzip-encoded JSON body with usage.
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface UsageUpstream {
  port: number;
  url: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The tokens a request asks the upstream to report: its last message "tokens P C". */
function askedTokens(body: { messages?: { content?: unknown }[] }): { prompt: number; completion: number } {
  const text = String(body.messages?.at(-1)?.content ?? '');
  const m = /tokens (\d+) (\d+)/.exec(text);
  return m ? { prompt: Number(m[1]), completion: Number(m[2]) } : { prompt: 1, completion: 1 };
}

// 10 MB of base64 built once: the same body for the direct and the proxied request.
let bigBody: Buffer | null = null;
export function bigJsonBody(): Buffer {
  bigBody ??= Buffer.from(
    JSON.stringify({ object: 'blob', data: randomBytes(7_500_000).toString('base64'), usage: { prompt_tokens: 70, completion_tokens: 80 } }),
  );
  return bigBody;
}

export async function startUsageUpstream(): Promise<UsageUpstream> {
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => void answer(req, res, Buffer.concat(parts).toString('utf8')).catch(() => res.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, text: string) {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/v1/fail') {
    res.writeHead(500, { 'content-type': 'application/json' });
    return res.end('{"error":{"message":"boom","type":"server_error"}}');
  }
  if (path === '/v1/big') {
    const body = bigJsonBody();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    return res.end(body);
  }
  if (path === '/v1/gzip') {
    const body = gzipSync(JSON.stringify({ object: 'chat.completion', usage: { prompt_tokens: 500, completion_tokens: 500 } }));
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
    return res.end(body);
  }
  const body = JSON.parse(text || '{}') as { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean }; messages?: { content?: unknown }[] };
  const { prompt, completion } = askedTokens(body);
  const model = body.model ?? 'usage-model';
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (!body.stream) {
    const json = JSON.stringify({
      id: 'chatcmpl-usage',
      object: 'chat.completion',
      created: 1,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'a "usage": {"prompt_tokens": 999} in the text' }, finish_reason: 'stop' }],
      usage,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    return res.end(json);
  }
  const include = body.stream_options?.include_usage === true;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const chunk = (choices: object[], u: object | null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-usage', object: 'chat.completion.chunk', created: 1, model, choices, ...(include ? { usage: u } : {}) })}\n\n`;
  for (const word of ['Hello', ' there', '.']) {
    res.write(chunk([{ index: 0, delta: { content: word }, finish_reason: null }], null));
    await sleep(2);
  }
  res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }], null));
  if (include) {
    const last = chunk([], usage);
    if (req.headers['x-test-split-usage'] === '1') {
      // Cut inside the "usage" key and inside the object: three separate writes.
      const a = last.indexOf('"usa') + 3;
      const b = last.indexOf('completion_tokens') + 5;
      for (const piece of [last.slice(0, a), last.slice(a, b), last.slice(b)]) {
        res.write(piece);
        await sleep(15);
      }
    } else res.write(last);
  }
  res.end('data: [DONE]\n\n');
}

/** Polls until `read` returns what is expected or 10 s (the API's promise) have passed; returns the last read. */
export async function within10s<T>(read: () => Promise<T>, expected: T): Promise<T> {
  const end = Date.now() + 10_000;
  let last = await read();
  while (Date.now() < end && JSON.stringify(last) !== JSON.stringify(expected)) {
    await sleep(250);
    last = await read();
  }
  return last;
}
