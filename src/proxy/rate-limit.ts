// What the proxy answers about a key's rate limits (docs/api.md, "Rate limits"): OpenAI's
// x-ratelimit-* headers on every response to a key that has a limit, and the 429 with
// Retry-After when a limit is reached. The decision itself is src/ratelimit/limiter.ts.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LimitDecision, LimitState } from '../ratelimit/limiter.ts';

const MESSAGES = {
  requests: 'Rate limit reached for requests per minute on this API key. Retry after the time in the Retry-After header.',
  tokens: 'Rate limit reached for tokens per minute on this API key. Retry after the time in the Retry-After header.',
} as const;
const BODIES = {
  requests: Buffer.from(JSON.stringify({ error: { message: MESSAGES.requests, type: 'requests', code: 'rate_limit_exceeded' } })),
  tokens: Buffer.from(JSON.stringify({ error: { message: MESSAGES.tokens, type: 'tokens', code: 'rate_limit_exceeded' } })),
};

const NAMES = {
  requests: ['x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests'],
  tokens: ['x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens'],
} as const;
/** the reset values a one-minute window gives ("0s" … "120s"), made once rather than per response */
const RESETS = Array.from({ length: 121 }, (_, n) => `${n}s`);

function push(out: string[], kind: 'requests' | 'tokens', s: LimitState): void {
  const names = NAMES[kind];
  out.push(names[0], String(s.limit), names[1], String(s.remaining), names[2], RESETS[s.resetS] ?? `${s.resetS}s`);
}

/** The x-ratelimit-* headers as a flat [name, value, ...] list. */
export function limitHeaders(d: LimitDecision): string[] {
  const out: string[] = [];
  if (d.requests !== null) push(out, 'requests', d.requests);
  if (d.tokens !== null) push(out, 'tokens', d.tokens);
  return out;
}

function answer429(d: LimitDecision): { body: Buffer; headers: string[] } {
  const body = BODIES[d.refused ?? 'requests'];
  const headers = ['content-type', 'application/json', 'content-length', String(body.length), 'cache-control', 'no-store', 'retry-after', String(d.retryAfterS), ...limitHeaders(d)];
  return { body, headers };
}

/** Answers 429 to a plain request. */
export function sendRateLimited(res: ServerResponse, d: LimitDecision): void {
  const a = answer429(d);
  res.writeHead(429, a.headers);
  res.end(a.body);
}

/** Answers 429 on a WebSocket upgrade's socket, then closes it. */
export function sendRateLimitedOnSocket(socket: Duplex, d: LimitDecision): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const a = answer429(d);
  let head = 'HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\n';
  for (let i = 0; i < a.headers.length; i += 2) head += `${a.headers[i]}: ${a.headers[i + 1]}\r\n`;
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n`), a.body]));
}
