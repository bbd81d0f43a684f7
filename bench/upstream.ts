// The benchmark's model upstream: a minimal node:http server answering every request with the
// same chat-completion JSON (about 400 bytes, with Content-Length), after reading the body.
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

const server = http.createServer((req, res) => {
  req.on('end', () => {
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
