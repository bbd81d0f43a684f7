// Forwarding an authorized request to its deployment's upstream, through http-proxy-3 with keep-alive
// pools per upstream origin. The response is relayed by hand (selfHandleResponse): one writeHead from
// the upstream's raw headers, headers flushed at once for streams, then every chunk written to the
// client by one shared 'data' listener that also hands it to the body's reader (usage metering),
// pausing the upstream while the client's buffer is full; cut when the upstream cuts. Every
// failure answers for itself (502/504 before headers, a cut connection after) and none throws.
// http-proxy-3 rather than http-proxy 1.18.1: maintained, aborts the upstream request itself when the
// client leaves and routes WebSocket socket errors. Its request path costs about 90k instructions
// (25–30 µs) per request over sending the same request with http.request (callgrind, 2026-11-26):
// a quarter of the bare Node proxy's whole cost. Abort propagation is done here too, so either
// library behaves alike. Per request, nothing here allocates closures: the flight hangs on the
// response and the handlers are shared.
import { randomUUID } from 'node:crypto';
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { createProxyServer as createHttpProxy } from 'http-proxy-3';
import { type ProxyErrorCode, sendAnswer, sendAnswerOnSocket } from './answers.ts';
import type { DeploymentEntry } from './auth-table.ts';
import type { Revocable } from './in-flight.ts';
import { carriesKeygateKey } from './credentials.ts';
import { createPolicyAgent } from './upstream-agent.ts';
import { UPSTREAM_REFUSED, type UpstreamPolicy } from '../domain/upstream-policy.ts';

export interface ForwardTimeouts {
  /** TCP connect to the upstream → 504 */
  connectTimeoutMs: number;
  /** request forwarded → response headers → 504 */
  headersTimeoutMs: number;
  /** silence between bytes of a response, once headers arrived → connection cut */
  idleTimeoutMs: number;
}

/** One forwarded request, as the server's hooks see it. */
export interface Forwarding {
  readonly deployment: DeploymentEntry;
  /** the key that authorized the request; null on an open deployment */
  readonly keyId: string | null;
  readonly requestId: string;
  readonly startedAt: number;
  /** the client's response (the access log's line hangs on it) */
  readonly res: ServerResponse;
}

export type UpstreamFailure = Extract<ProxyErrorCode, 'upstream_unavailable' | 'upstream_refused' | 'upstream_timeout'>;

/** Reads an upstream response's body as it is relayed to the client (usage metering). */
export interface BodyReader {
  /** a chunk of the body, handed over as it is written to the client */
  chunk(data: Buffer): void;
  /** the upstream response closed: its body ended or was cut */
  closed(): void;
}

export interface ForwardHooks {
  /** the upstream's headers are out to the client; what it returns reads the body relayed next */
  responded(f: Forwarding, statusCode: number, seconds: number, upstream: IncomingMessage): BodyReader | null;
  failed(f: Forwarding, code: UpstreamFailure, error: Error): void;
  /** the client left before the upstream's headers arrived */
  clientClosed(f: Forwarding): void;
}

/** Where requests admitted with a key are held while in flight, so a revocation can end them (in-flight.ts). */
export interface FlightRegistry {
  add(flight: Revocable): void;
  remove(flight: Revocable): void;
}

export interface Forwarder {
  /** admittedHash: the hash of the secret that opened the request (null with keyId on an open deployment) */
  web(
    req: IncomingMessage,
    res: ServerResponse,
    deployment: DeploymentEntry,
    path: string,
    keyId?: string | null,
    admittedHash?: string | null,
    /** name/value pairs added to whatever is answered (a limited key's x-ratelimit-* headers) */
    extraHeaders?: readonly string[] | null,
  ): void;
  /** keyId and admittedHash as for web: a tunnel a key opened is cut (closed) like its requests */
  ws(req: IncomingMessage, socket: Duplex, head: Buffer, deployment: DeploymentEntry, path: string, keyId?: string | null, admittedHash?: string | null): void;
  /** retires the keep-alive pool of an origin no deployment uses any more */
  release(origin: string): void;
  /** destroys every pooled upstream connection */
  close(): void;
}

interface Flight extends Forwarding {
  readonly deploymentId: string;
  readonly admittedHash: string | null;
  /** added to the answer's headers, whoever answers; upstream headers of the same names give way */
  readonly extraHeaders: readonly string[] | null;
  /** held in the flight registry (admitted with a key) */
  readonly tracked: boolean;
  readonly revoke: (this: Flight) => void;
  readonly release: (this: Flight) => void;
  revoked: boolean;
  proxyReq: ClientRequest | null;
  proxyRes: IncomingMessage | null;
  /** reads the body as it is relayed (null: nothing does) */
  reader: BodyReader | null;
  /** the relay listens for the client's 'drain' (added the first time the client's buffer filled) */
  drainHooked: boolean;
  /** the response is framed by chunks (no Content-Length): more can be written before its end */
  streaming: boolean;
  timer: NodeJS.Timeout | null;
  timedOut: boolean;
  /** an answer or the upstream's headers went out, or the client left: nothing more to say */
  settled: boolean;
}

const FLIGHT = Symbol('keygate.flight');
type WithFlight = ServerResponse & { [FLIGHT]?: Flight };
/** an upstream response being relayed: its flight hangs on it as on the client's response */
type Relayed = IncomingMessage & { [FLIGHT]?: Flight };

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
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection']);
const LOOKED_AT_RESPONSE_LENGTHS = new Set([...HOP_BY_HOP_RESPONSE, 'content-length', 'x-request-id'].map((name) => name.length));

/** The library's target shape (http-proxy-3 does not export the type from its entry point). */
interface ProxyTargetDetailed {
  protocol: string;
  host: string;
  hostname: string;
  port: number;
}

/** A deployment's upstream as the proxy library takes it, computed once per table entry. */
interface Upstream {
  /** passed to every proxy call as is: no options object built and no URL getter run per request */
  readonly options: { target: ProxyTargetDetailed; agent: http.Agent };
  /** the Host header the upstream gets: its own */
  readonly host: string;
  /** upstreamUrl's path without its trailing slash: '' or '/base' */
  readonly basePath: string;
  /** upstreamUrl's query without '?', usually '' */
  readonly baseQuery: string;
}

export function createForwarder(deps: { timeouts: ForwardTimeouts; policy: UpstreamPolicy; hooks: ForwardHooks; inFlight?: FlightRegistry }): Forwarder {
  const { timeouts, policy, hooks } = deps;
  const inFlight = deps.inFlight ?? null;
  const agents = new Map<string, http.Agent>();
  const upstreams = new WeakMap<DeploymentEntry, Upstream>();
  // Path and Host are prepared here (upstreamPath, upstreamHeaders), so the library neither parses
  // URLs again nor rewrites headers.
  const proxy = createHttpProxy({ selfHandleResponse: true, changeOrigin: false, xfwd: false, prependPath: false, toProxy: true });

  // Errors reach the per-call callbacks; this only keeps a stray one (a WebSocket's) from being
  // thrown by the EventEmitter.
  proxy.on('error', () => {});

  proxy.on('proxyReq', (proxyReq, _req, res, _options, socket) => {
    const flight = (res as WithFlight)[FLIGHT];
    if (!flight) return;
    flight.proxyReq = proxyReq;
    if (flight.settled) {
      proxyReq.destroy();
      return;
    }
    if (socket.connecting) {
      // A fresh connection: the connect timeout runs first, then the headers timeout from there.
      clearTimeout(flight.timer!);
      flight.timer = setTimeout(onTimeout, timeouts.connectTimeoutMs, flight);
      socket.once('connect', () => {
        if (flight.settled || flight.timedOut) return;
        clearTimeout(flight.timer!);
        flight.timer = setTimeout(onTimeout, timeouts.headersTimeoutMs, flight);
      });
    }
  });

  proxy.on('proxyRes', (proxyRes, _req, res) => {
    const flight = (res as WithFlight)[FLIGHT];
    if (!flight) return;
    clearTimeout(flight.timer!);
    if (flight.settled) {
      proxyRes.destroy();
      return;
    }
    flight.settled = true;
    let streaming: boolean;
    try {
      streaming = writeHeadFrom(res, proxyRes, flight.requestId, flight.extraHeaders);
    } catch (error) {
      // A header Node refuses to write: answer for it rather than throw inside an event emit.
      proxyRes.destroy();
      flight.settled = false;
      fail(flight, error as Error);
      return;
    }
    flight.proxyRes = proxyRes;
    flight.streaming = streaming;
    flight.reader = hooks.responded(flight, proxyRes.statusCode ?? 0, (performance.now() - flight.startedAt) / 1000, proxyRes);
    if (streaming) res.flushHeaders();
    // Node emits the socket's timeouts on the response until it ends; destroying an unfinished
    // response closes its upstream connection too. (ClientRequest.setTimeout would add and remove
    // three listeners per request for the same.)
    proxyRes.socket?.setTimeout(timeouts.idleTimeoutMs);
    (proxyRes as Relayed)[FLIGHT] = flight;
    proxyRes.on('timeout', cutSilentUpstream);
    proxyRes.on('close', onUpstreamClose);
    proxyRes.on('end', onUpstreamEnd);
    // Last: the listener starts the flow. (Readable.pipe would make some ten closures and listeners
    // on both sides per response.)
    proxyRes.on('data', relayChunk);
  });

  proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
    // Until the upstream's 101, a handshake is bounded like a request's headers; a client that
    // leaves takes the upstream request along.
    const timer = setTimeout(() => proxyReq.destroy(new Error('upstream timed out')), timeouts.headersTimeoutMs);
    const settle = () => clearTimeout(timer);
    proxyReq.once('upgrade', settle);
    proxyReq.once('response', settle);
    proxyReq.once('close', settle);
    socket.once('close', () => proxyReq.destroy());
  });

  function onTimeout(flight: Flight) {
    flight.timedOut = true;
    if (flight.proxyReq) flight.proxyReq.destroy(new Error('upstream timed out'));
    else fail(flight, new Error('upstream timed out before a connection was available'));
  }

  function fail(flight: Flight, error: NodeJS.ErrnoException) {
    clearTimeout(flight.timer!);
    if (flight.settled) return;
    flight.settled = true;
    const code: UpstreamFailure = flight.timedOut
      ? 'upstream_timeout'
      : error.code === UPSTREAM_REFUSED
        ? 'upstream_refused'
        : 'upstream_unavailable';
    hooks.failed(flight, code, error);
    sendAnswer(flight.res, code, flight.requestId, flight.extraHeaders);
  }

  // Shared by every request (the flight hangs on the response), so none allocates closures for them.
  function onClientClose(this: WithFlight) {
    const flight = this[FLIGHT]!;
    clearTimeout(flight.timer!);
    if (flight.tracked) inFlight!.remove(flight as Revocable);
    if (this.writableFinished) return;
    // The client left: the upstream request goes too, whatever phase it was in.
    flight.proxyReq?.destroy();
    if (!flight.settled) {
      flight.settled = true;
      hooks.clientClosed(flight);
    }
  }

  function onProxyError(err: Error, _req: IncomingMessage, res: ServerResponse | Socket) {
    const flight = (res as WithFlight)[FLIGHT]!;
    if (flight.res.destroyed && !flight.res.writableFinished && !flight.settled) {
      flight.settled = true;
      hooks.clientClosed(flight);
      return;
    }
    fail(flight, err);
  }

  function upstreamOf(deployment: DeploymentEntry): Upstream | null {
    let upstream = upstreams.get(deployment);
    if (upstream === undefined && deployment.upstream !== null) {
      const url = deployment.upstream;
      let agent = agents.get(url.origin);
      if (!agent) agents.set(url.origin, (agent = createPolicyAgent(url.protocol, policy)));
      const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      upstream = {
        options: { target: { protocol: url.protocol, host: hostname, hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) }, agent },
        host: url.host,
        basePath: url.pathname.replace(/\/+$/, ''),
        baseQuery: url.search.slice(1),
      };
      upstreams.set(deployment, upstream);
    }
    return upstream ?? null;
  }

  return {
    web(req, res, deployment, path, keyId = null, admittedHash = null, extraHeaders = null) {
      const requestId = requestIdOf(req);
      const flight: Flight = {
        deployment,
        keyId,
        requestId,
        startedAt: performance.now(),
        res,
        deploymentId: deployment.id,
        admittedHash,
        extraHeaders,
        tracked: inFlight !== null && keyId !== null && admittedHash !== null,
        revoke: revokeFlight,
        release: releaseFlight,
        revoked: false,
        proxyReq: null,
        proxyRes: null,
        reader: null,
        drainHooked: false,
        streaming: false,
        timer: null,
        timedOut: false,
        settled: false,
      };
      const upstream = upstreamOf(deployment);
      if (upstream === null) {
        fail(flight, new Error(`deployment ${deployment.label} has no usable upstream URL`));
        return;
      }
      (res as WithFlight)[FLIGHT] = flight;
      req.headers = upstreamHeaders(req, requestId, upstream.host, false);
      req.url = upstreamPath(upstream, path);
      flight.timer = setTimeout(onTimeout, timeouts.headersTimeoutMs, flight);
      res.on('close', onClientClose);
      if (flight.tracked) inFlight!.add(flight as Revocable);
      try {
        proxy.web(req, res, upstream.options, onProxyError);
      } catch (error) {
        // http.request throws synchronously on what it will not send; never let that escape.
        fail(flight, error as Error);
      }
    },

    ws(req, socket, head, deployment, path, keyId = null, admittedHash = null) {
      const upstream = upstreamOf(deployment);
      if (upstream === null) {
        sendAnswerOnSocket(socket, 'upstream_unavailable');
        return;
      }
      if (inFlight !== null && keyId !== null && admittedHash !== null) {
        // Upgrades are rare next to requests: a closure each is fine. Destroying the client's
        // socket takes the upstream's along (http-proxy-3 pipes them and closes one with the other).
        const tunnel: Revocable = { keyId, deploymentId: deployment.id, admittedHash, revoke: () => socket.destroy() };
        inFlight.add(tunnel);
        socket.once('close', () => inFlight.remove(tunnel));
      }
      req.headers = upstreamHeaders(req, requestIdOf(req), upstream.host, true);
      req.url = upstreamPath(upstream, path);
      const answer = (err: NodeJS.ErrnoException) =>
        sendAnswerOnSocket(socket, err.code === UPSTREAM_REFUSED ? 'upstream_refused' : 'upstream_unavailable');
      try {
        proxy.ws(req, socket, head, upstream.options, answer);
      } catch (error) {
        answer(error as Error);
      }
    },

    release(origin) {
      const agent = agents.get(origin);
      if (!agent) return;
      agents.delete(origin);
      // Requests still running on it finish; their connections close instead of returning to the pool.
      agent.maxFreeSockets = 0;
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    },

    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

// The last event of a cut event stream, in the OpenAI error shape that SDKs raise from a stream. It
// starts with a line end: one that ends an event the upstream left unterminated, else an empty line
// that SSE readers skip.
const REVOKED_EVENT = `\ndata: ${JSON.stringify({
  error: { message: 'The API key no longer opens this deployment; the request was ended.', type: 'invalid_request_error', code: 'api_key_revoked' },
})}\n\n`;
const EVENT_STREAM = /^\s*text\/event-stream/i;

/** Ends a request whose key no longer opens its deployment, for its client (in-flight.ts): an
 *  event stream gets a last api_key_revoked event and ends, any other response is aborted, a request
 *  still waiting for the upstream's headers gets 401 invalid_api_key. Nothing of the upstream's
 *  reaches the client afterwards; the upstream itself is aborted by releaseFlight, next. Shared by
 *  every flight (called with the flight as this). */
function revokeFlight(this: Flight) {
  if (this.revoked) return;
  this.revoked = true;
  clearTimeout(this.timer!);
  const res = this.res;
  const upstream = this.proxyRes;
  if (!this.settled) {
    // Headers that arrive now are dropped (the proxyRes handler sees the flight settled).
    this.settled = true;
    sendAnswer(res, 'invalid_api_key', this.requestId);
    return;
  }
  // The relay stops at `revoked`; paused, the upstream's response keeps what it still sends in its
  // buffer until releaseFlight destroys it, after the ack.
  upstream?.pause();
  if (upstream !== null && this.streaming && !res.writableEnded && !res.destroyed && EVENT_STREAM.test(upstream.headers['content-type'] ?? '')) {
    // What was written before goes out first.
    res.end(REVOKED_EVENT);
    return;
  }
  if (!res.writableFinished) res.destroy();
}

/** Aborts the upstream side of a revoked request: its response (and so its connection) and its
 *  request, so the upstream sees its connection close. */
function releaseFlight(this: Flight) {
  this.proxyRes?.destroy();
  this.proxyReq?.destroy();
}

// The relay of an upstream response to the client, shared by every response (`this` is the upstream
// response, its flight hangs on it).

function relayChunk(this: Relayed, chunk: Buffer) {
  const flight = this[FLIGHT]!;
  if (flight.revoked) return;
  flight.reader?.chunk(chunk);
  const res = flight.res;
  // The client left (its close handler aborts the upstream): nothing to write to.
  if (res.destroyed || res.writableEnded) return;
  if (res.write(chunk)) return;
  // The client's buffer is full: the upstream waits until it drains.
  this.pause();
  if (!flight.drainHooked) {
    flight.drainHooked = true;
    res.on('drain', resumeUpstream);
  }
}

function resumeUpstream(this: WithFlight) {
  const flight = this[FLIGHT]!;
  // A cut request's upstream stays paused until releaseFlight destroys it.
  if (!flight.revoked) flight.proxyRes?.resume();
}

function onUpstreamEnd(this: Relayed) {
  const flight = this[FLIGHT]!;
  const res = flight.res;
  if (!flight.revoked && !res.destroyed && !res.writableEnded) res.end();
}

function onUpstreamClose(this: Relayed) {
  const flight = this[FLIGHT]!;
  flight.reader?.closed();
  // An upstream that stops mid-body must not leave the client waiting for bytes that never come.
  if (!this.complete && !flight.revoked) flight.res.destroy();
}

/** The idle timeout: the upstream fell silent mid-response. The pool resets the socket's timeout
 *  when it takes a connection back. */
function cutSilentUpstream(this: IncomingMessage) {
  this.destroy();
}

/** The client's X-Request-Id when it has a sane length, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const id = req.headers['x-request-id'];
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_REQUEST_ID ? id : randomUUID();
}

/** The upstream path: the upstreamUrl path joined with the request path, whose dot segments
 *  (plain or percent-encoded) are resolved first, so a request cannot climb above the base path.
 *  A target that is not a path ('*', absolute-form) asks for the base path itself: the proxy
 *  library would turn '*' into '/*', the upstream's root. */
function upstreamPath(upstream: Upstream, path: string): string {
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
function upstreamHeaders(req: IncomingMessage, requestId: string, upstreamHost: string, upgrade: boolean): IncomingHttpHeaders {
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

/** Writes the upstream's status and headers, less hop-by-hop ones (Transfer-Encoding among them:
 *  Node frames the body itself) and a 204's or 304's Content-Length; says whether the body is a
 *  stream (no Content-Length), whose headers should leave at once. */
// Headers go out as one raw list: a single res.setHeader would send every upstream header through
// Node's per-header path instead (measured: a tenth more proxy CPU per request).
/** the names keygate's extra headers use: the upstream's own of the kind give way to them */
const EXTRA_HEADER_NAMES = /^x-ratelimit-/i;

function writeHeadFrom(res: ServerResponse, proxyRes: IncomingMessage, requestId: string, extra: readonly string[] | null): boolean {
  const raw = proxyRes.rawHeaders;
  const status = proxyRes.statusCode ?? 502;
  const noBody = status === 204 || status === 304;
  const out: string[] = [];
  let hasLength = false;
  let hasRequestId = false;
  for (let i = 0; i < raw.length; i += 2) {
    const sent = raw[i]!;
    // Only names as long as one of those looked for are lowercased.
    const name = LOOKED_AT_RESPONSE_LENGTHS.has(sent.length) ? sent.toLowerCase() : '';
    if (HOP_BY_HOP_RESPONSE.has(name)) continue;
    if (name === 'content-length') {
      // 204 and 304 have no body: a length there would only mislead the client's framing.
      if (noBody) continue;
      hasLength = true;
    }
    else if (name === 'x-request-id') hasRequestId = true;
    // ("x-" first: most names are not, and skip the pattern)
    else if (extra !== null && (sent.charCodeAt(0) | 0x20) === 120 && sent.charCodeAt(1) === 45 && EXTRA_HEADER_NAMES.test(sent)) continue;
    out.push(sent, raw[i + 1]!);
  }
  if (!hasRequestId) out.push('x-request-id', requestId);
  if (extra !== null) for (let i = 0; i < extra.length; i++) out.push(extra[i]!);
  res.writeHead(status, proxyRes.statusMessage, out);
  return !hasLength && !noBody;
}
