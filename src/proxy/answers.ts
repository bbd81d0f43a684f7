// The proxy's own answers: status codes and JSON bodies in the OpenAI error shape, so OpenAI SDKs
// surface them as ordinary API errors. Bodies and headers are built once at load, not per request.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

export type ProxyErrorCode =
  | 'missing_api_key'
  | 'invalid_api_key'
  | 'deployment_not_found'
  | 'upstream_unavailable'
  | 'upstream_refused'
  | 'upstream_timeout'
  | 'not_ready'
  | 'feed_unavailable'
  | 'unsupported_transfer_encoding'
  | 'invalid_path'
  | 'too_many_connections';

interface Answer {
  status: number;
  body: Buffer;
  /** flat [name, value, ...] list, the form writeHead takes without copying into an object */
  headers: string[];
}

function answer(status: number, type: string, code: string, message: string, extra: string[] = []): Answer {
  const body = Buffer.from(JSON.stringify({ error: { message, type, code } }));
  return {
    status,
    body,
    headers: ['content-type', 'application/json', 'content-length', String(body.length), 'cache-control', 'no-store', ...extra],
  };
}

const BEARER = ['www-authenticate', 'Bearer realm="keygate"'];

export const ANSWERS: Readonly<Record<ProxyErrorCode, Answer>> = {
  missing_api_key: answer(
    401,
    'invalid_request_error',
    'missing_api_key',
    'No API key provided. Send it in the X-API-Key header or as "Authorization: Bearer <key>".',
    BEARER,
  ),
  // One body for every reason a key is refused, so a caller cannot tell unknown from expired or unlinked.
  invalid_api_key: answer(401, 'invalid_request_error', 'invalid_api_key', 'Invalid API key.', BEARER),
  deployment_not_found: answer(404, 'invalid_request_error', 'deployment_not_found', 'No such deployment.'),
  upstream_unavailable: answer(502, 'server_error', 'upstream_unavailable', 'The model upstream is unavailable.'),
  // Same public code as upstream_unavailable; the message tells the operator where to look.
  upstream_refused: answer(
    502,
    'server_error',
    'upstream_unavailable',
    "The deployment's upstream address is refused by the proxy's upstream policy (link-local, metadata or denied address).",
  ),
  upstream_timeout: answer(504, 'server_error', 'upstream_timeout', 'The model upstream did not answer in time.'),
  not_ready: answer(503, 'server_error', 'not_ready', 'The proxy is not ready.', ['retry-after', '1']),
  feed_unavailable: answer(
    503,
    'server_error',
    'feed_unavailable',
    'The proxy cannot confirm that its access rules are current.',
    ['retry-after', '1'],
  ),
  unsupported_transfer_encoding: answer(
    400,
    'invalid_request_error',
    'unsupported_transfer_encoding',
    'Only the chunked transfer coding is accepted; send the body chunked or with a Content-Length.',
    ['connection', 'close'],
  ),
  invalid_path: answer(400, 'invalid_request_error', 'invalid_path', 'The path has a dot segment ("." or "..", plain or percent-encoded).'),
  too_many_connections: answer(
    503,
    'server_error',
    'too_many_connections',
    'The proxy has too many open connections; retry shortly.',
    ['retry-after', '1', 'connection', 'close'],
  ),
};

/** Answers a plain HTTP request; once headers are out, cutting the response is the only honest signal. */
export function sendAnswer(res: ServerResponse, code: ProxyErrorCode, requestId?: string, extraHeaders?: readonly string[] | null): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const a = ANSWERS[code];
  const headers = requestId === undefined ? a.headers : [...a.headers, 'x-request-id', requestId];
  res.writeHead(a.status, extraHeaders ? [...headers, ...extraHeaders] : headers);
  res.end(a.body);
}

/** Answers on a raw socket (a WebSocket upgrade that is refused before any 101), then closes it. */
export function sendAnswerOnSocket(socket: Duplex, code: ProxyErrorCode): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const a = ANSWERS[code];
  let head = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? ''}\r\nconnection: close\r\n`;
  for (let i = 0; i < a.headers.length; i += 2) if (a.headers[i] !== 'connection') head += `${a.headers[i]}: ${a.headers[i + 1]}\r\n`;
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n`), a.body]));
}

/** Status code of an answer, for metrics and logs. */
export const statusOf = (code: ProxyErrorCode): number => ANSWERS[code].status;
