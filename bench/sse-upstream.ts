// The streaming model upstream of the streams benchmark: every POST is answered with an SSE stream
// of chat-completion chunks, the way an OpenAI-compatible server streams tokens: headers and the
// first chunk after FIRST_MS (the "prefill"), then one chunk every INTERVAL_MS, `max_tokens` chunks
// in all (from the JSON body; CHUNKS when absent), then `data: [DONE]`. Chunked encoding, no
// Content-Length, so every proxy in front has to pass each chunk on as it comes.
//   PORT=0 FIRST_MS=50 INTERVAL_MS=250 CHUNKS=40 node --import tsx bench/sse-upstream.ts
//   → prints "listening <port>"
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const FIRST_MS = Number(process.env.FIRST_MS ?? 50);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 250);
const CHUNKS = Number(process.env.CHUNKS ?? 40);
const MAX_CHUNKS = 10_000;

const chunk = (i: number) =>
  Buffer.from(
    `data: ${JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'llama-3-8b',
      choices: [{ index: 0, delta: { content: `token${i} ` }, finish_reason: null }],
    })}\n\n`,
  );
// Pre-built: the upstream's own cost per chunk stays small, and equal for every proxy in front.
const CHUNK_BYTES = Array.from({ length: 64 }, (_, i) => chunk(i));
const DONE = Buffer.from('data: [DONE]\n\n');
// X-Accel-Buffering: what streaming servers send so that an nginx in front passes each event on at once.
const HEADERS = ['content-type', 'text/event-stream', 'cache-control', 'no-cache', 'x-accel-buffering', 'no'];

interface Stream {
  res: http.ServerResponse;
  left: number;
  sent: number;
  timer: NodeJS.Timeout | null;
}

function next(this: void, s: Stream): void {
  s.timer = null;
  if (s.res.destroyed) return;
  if (s.sent === 0) s.res.writeHead(200, HEADERS);
  s.res.write(CHUNK_BYTES[s.sent % CHUNK_BYTES.length]!);
  s.sent++;
  if (--s.left > 0) {
    s.timer = setTimeout(next, INTERVAL_MS, s);
    return;
  }
  s.res.end(DONE);
}

const MODELS = Buffer.from('{"object":"list","data":[{"id":"llama-3-8b","object":"model"}]}');

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') {
    // Readiness checks (GET /v1/models) get a plain answer.
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': MODELS.length }).end(MODELS);
    req.resume();
    return;
  }
  const body: Buffer[] = [];
  req.on('data', (b: Buffer) => body.push(b));
  req.on('end', () => {
    let chunks = CHUNKS;
    try {
      const n = (JSON.parse(Buffer.concat(body).toString('utf8')) as { max_tokens?: unknown }).max_tokens;
      if (typeof n === 'number' && Number.isInteger(n) && n > 0) chunks = Math.min(n, MAX_CHUNKS);
    } catch {
      // not JSON: the default length
    }
    const s: Stream = { res, left: chunks, sent: 0, timer: null };
    s.timer = setTimeout(next, FIRST_MS, s);
    res.on('close', () => s.timer && clearTimeout(s.timer));
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.maxConnections = Infinity;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', 4096, () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
