// What the upstream is asked: the request id, the path under the deployment's upstreamUrl, and the
// headers (its own Host, the proxy's X-Forwarded-*, no keygate credential, no hop-by-hop headers).
// The request's body is piped by the proxy library as it comes; nothing here reads it.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { carriesKeygateKey } from './credentials.ts';
import type { Upstream } from './upstreams.ts';

const MAX_REQUEST_ID = 128;
/** a path that URL parsing leaves as it is: no dot segment, escape, query, fragment or backslash */
const PLAIN_PATH = /^\/[A-Za-z0-9_~/-]*$/;
// Never passed on as the client sent them: keygate's credential, the headers the proxy writes
// itself, and hop-by-hop headers (an upgrade keeps Connection and Upgrade).
const DROPPED_REQUEST_HEADERS = new Set([
  'host',
  'x-api-key',
  'x-request-id',
  'forwarded',
  'x-real-ip',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'expect',
]);

/** The client's X-Request-Id when it has a sane length, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const id = req.headers['x-request-id'];
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_REQUEST_ID ? id : randomUUID();
}

/** The upstream path: the upstreamUrl path joined with the request path, whose dot segments
 *  (plain or percent-encoded) are resolved first, so a request cannot climb above the base path.
 *  A target that is not a path ('*', absolute-form) asks for the base path itself: the proxy
 *  library would turn '*' into '/*', the upstream's root. */
export function upstreamPath(upstream: Upstream, path: string): string {
  if (path.charCodeAt(0) !== 47 /* / */) return `${upstream.basePath}/`;
  // The common case, a plain path, is what URL parsing would give back unchanged: no URL object
  // (and its strings) per request.
  if (PLAIN_PATH.test(path)) return upstream.baseQuery === '' ? upstream.basePath + path : `${upstream.basePath}${path}?${upstream.baseQuery}`;
  const url = new URL(`http://upstream.invalid${path}`);
  let search = url.search;
  if (upstream.baseQuery !== '') search = search === '' ? `?${upstream.baseQuery}` : `?${upstream.baseQuery}&${search.slice(1)}`;
  return upstream.basePath + url.pathname + search;
}

/** What the upstream is told: its own Host, the proxy's X-Forwarded-*, no keygate credential,
 *  no hop-by-hop headers (except an upgrade's). A new object rather than deletes on req.headers,
 *  which would turn it into a slow dictionary that the proxy library then copies. */
export function upstreamHeaders(req: IncomingMessage, requestId: string, upstreamHost: string, upgrade: boolean): IncomingHttpHeaders {
  const src = req.headers;
  const out: IncomingHttpHeaders = { host: upstreamHost };
  const listed = !upgrade && src.connection !== undefined ? src.connection.toLowerCase().split(/\s*,\s*/) : null;
  for (const name in src) {
    if (DROPPED_REQUEST_HEADERS.has(name) || name.startsWith('x-forwarded-')) continue;
    if (!upgrade && (name === 'connection' || name === 'upgrade' || listed?.includes(name))) continue;
    // The proxy admitted only chunked (identity aside, request-shape.ts): the upstream gets exactly
    // that, never a list it might frame differently.
    if (name === 'transfer-encoding') {
      out[name] = 'chunked';
      continue;
    }
    // Another Bearer is the upstream's business; a keygate key never leaves the proxy, whatever
    // scheme (or none) it came under.
    if (name === 'authorization' && carriesKeygateKey(src.authorization!)) continue;
    out[name] = src[name];
  }
  out['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  out['x-forwarded-proto'] = req.socket instanceof TLSSocket ? 'https' : 'http';
  if (src.host !== undefined) out['x-forwarded-host'] = src.host;
  out['x-request-id'] = requestId;
  return out;
}
