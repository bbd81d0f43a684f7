// The benchmark's model upstream: a minimal node:http server answering every request with the
// same chat-completion JSON (about 400 bytes, with Content-Length), after reading the body; a path
// that contains /stream gets the same answer as an SSE stream instead (six chunks, the last one
// carrying usage, as with stream_options.include_usage).
//   PORT=9000 node --import tsx bench/upstream.ts   → prints "listening <port>"
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1700000000,
    model: 'llama-3-8b',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! '.repeat(30).trim() }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 9, completion_tokens: 30, total_tokens: 39 },
  }),
);
const HEADERS = ['content-type', 'application/json', 'content-length', String(BODY.length)];
const chunk = (fields: object) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'llama-3-8b', ...fields })}\n\n`;
const STREAM = [
  ...['Hello!', ' Hello!', ' Hello!', ' Hello!'].map((content) => chunk({ choices: [{ index: 0, delta: { content }, finish_reason: null }], usage: null })),
  chunk({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 30, total_tokens: 39 } }),
  'data: [DONE]\n\n',
].map((event) => Buffer.from(event));
const STREAM_HEADERS = ['content-type', 'text/event-stream', 'cache-control', 'no-cache'];

const server = http.createServer((req, res) => {
  req.on('end', () => {
    if (req.url?.includes('/stream')) {
      // Chunked, one write per event: the proxy sees them as separate chunks.
      res.writeHead(200, STREAM_HEADERS);
      for (let i = 0; i < STREAM.length - 1; i++) res.write(STREAM[i]);
      res.end(STREAM[STREAM.length - 1]);
      return;
    }
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
  req.resume();
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
