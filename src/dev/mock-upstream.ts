// A small OpenAI-compatible model server for demos and tests (`keygate mock-upstream`): chat
// completions with and without streaming, and the model list. It answers with the model name it
// was asked for, so a caller can see which deployment its request reached. For tests and benchmarks
// of long responses it can stream many chunks slowly and hold a JSON body back, and it counts the
// requests whose connection closed before it finished answering (aborted).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../runtime/listen.ts';

export interface MockUpstreamOptions {
  host?: string;
  port?: number;
  /** pause between streamed chunks */
  chunkDelayMs?: number;
  /** content chunks in a stream (default: the 4 words of the answer; more repeat them) */
  streamChunks?: number;
  /** a JSON answer sends its headers and first half at once and the rest after this long (default 0) */
  jsonDelayMs?: number;
}

export interface MockUpstream {
  readonly server: http.Server;
  /** the bound port once started */
  readonly port: number;
  /** chat completions received */
  readonly requests: number;
  /** chat completions whose connection closed before the answer was complete */
  readonly aborted: number;
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;
const DEFAULT_MODEL = 'mock-model';

export function createMockUpstream(options: MockUpstreamOptions = {}): MockUpstream {
  const { host = '127.0.0.1', port = 0 } = options;
  const shape: AnswerShape = { chunkDelayMs: options.chunkDelayMs ?? 5, streamChunks: options.streamChunks ?? 0, jsonDelayMs: options.jsonDelayMs ?? 0 };
  let boundPort = 0;
  let requests = 0;
  let aborted = 0;

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') return models(res);
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      requests++;
      res.once('close', () => {
        if (!res.writableFinished) aborted++;
      });
      return void chatCompletions(req, res, shape);
    }
    req.resume();
    sendError(res, 404, 'not_found', `No route for ${req.method} ${path}`);
  });

  return {
    server,
    get port() {
      return boundPort;
    },
    get requests() {
      return requests;
    },
    get aborted() {
      return aborted;
    },
    async start() {
      boundPort = await listen(server, port, host);
      return { port: boundPort };
    },
    stop() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function models(res: ServerResponse) {
  sendJson(res, 200, {
    object: 'list',
    data: [{ id: DEFAULT_MODEL, object: 'model', created: 0, owned_by: 'keygate-mock' }],
  });
}

interface AnswerShape {
  chunkDelayMs: number;
  streamChunks: number;
  jsonDelayMs: number;
}

async function chatCompletions(req: IncomingMessage, res: ServerResponse, shape: AnswerShape) {
  let body: { model?: unknown; stream?: unknown; messages?: unknown };
  try {
    const text = await readBody(req);
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    body = parsed as typeof body;
  } catch (error) {
    return sendError(res, 400, 'invalid_json', `Request body is not a JSON object: ${(error as Error).message}`);
  }
  const model = typeof body.model === 'string' && body.model !== '' ? body.model : DEFAULT_MODEL;
  const words = ['Hello', ' from', ` ${model}`, '.'];
  const id = `chatcmpl-mock-${Date.now().toString(36)}`;
  const created = Math.floor(Date.now() / 1000);

  let closed = false;
  res.once('close', () => (closed = true));
  if (body.stream !== true) {
    const answer = {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: words.length, total_tokens: 1 + words.length },
    };
    if (shape.jsonDelayMs <= 0) return sendJson(res, 200, answer);
    const text = Buffer.from(JSON.stringify(answer));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
    res.write(text.subarray(0, text.length >> 1));
    await new Promise((r) => setTimeout(r, shape.jsonDelayMs));
    if (!closed) res.end(text.subarray(text.length >> 1));
    return;
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const contentChunks = shape.streamChunks > 0 ? shape.streamChunks : words.length;
  const events = [
    chunk({ role: 'assistant', content: '' }, null),
    ...Array.from({ length: contentChunks }, (_, i) => chunk({ content: words[i % words.length] }, null)),
    chunk({}, 'stop'),
    'data: [DONE]\n\n',
  ];
  for (const event of events) {
    if (closed) return;
    res.write(event);
    await new Promise((r) => setTimeout(r, shape.chunkDelayMs));
  }
  if (!closed) res.end();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
      } else parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string) {
  sendJson(res, status, { error: { message, type: 'invalid_request_error', code } });
}
