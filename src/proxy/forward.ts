// Forwarding an authorized request to its deployment's upstream, through http-proxy-3 with keep-alive
// pools per upstream origin. The response is piped by hand (selfHandleResponse): one writeHead from
// the upstream's raw headers, headers flushed at once for streams, cut when the upstream cuts. Every
// failure answers for itself (502/504 before headers, a cut connection after) and none throws.
// See bench/proxy-lib-compare.ts for why http-proxy-3 and not http-proxy 1.18.
import { randomUUID } from 'node:crypto';
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { createProxyServer as createHttpProxy } from 'http-proxy-3';
import { type ProxyErrorCode, sendAnswer, sendAnswerOnSocket } from './answers.ts';
import type { DeploymentEntry } from './auth-table.ts';
import { keygateBearer } from './credentials.ts';
import { UPSTREAM_REFUSED, type UpstreamPolicy } from './upstream-policy.ts';

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
  readonly requestId: string;
  readonly startedAt: number;
}

export type UpstreamFailure = Extract<ProxyErrorCode, 'upstream_unavailable' | 'upstream_refused' | 'upstream_timeout'>;

export interface ForwardHooks {
  responded(f: Forwarding, statusCode: number, seconds: number): void;
  failed(f: Forwarding, code: UpstreamFailure, error: Error): void;
  /** the client left before the upstream's headers arrived */
  clientClosed(f: Forwarding): void;
}

export interface Forwarder {
  web(req: IncomingMessage, res: ServerResponse, deployment: DeploymentEntry, path: string): void;
  ws(req: IncomingMessage, socket: Duplex, head: Buffer, deployment: DeploymentEntry, path: string): void;
  /** drops the keep-alive pool of an origin no deployment uses any more */
  release(origin: string): void;
  /** destroys every pooled upstream connection */
  close(): void;
}

interface Flight extends Forwarding {
  readonly res: ServerResponse;
  proxyReq: ClientRequest | null;
  timer: NodeJS.Timeout | null;
  timedOut: boolean;
  /** an answer or the upstream's headers went out, or the client left: nothing more to say */
  settled: boolean;
}

const FLIGHT = Symbol('keygate.flight');
type WithFlight = ServerResponse & { [FLIGHT]?: Flight };

const MAX_REQUEST_ID = 128;
// Hop-by-hop or spoofable: never passed on as the client sent them.
const DROPPED_REQUEST_HEADERS = ['x-api-key', 'forwarded', 'x-forwarded-port', 'x-real-ip', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'expect'];
const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection']);

export function createForwarder(deps: { timeouts: ForwardTimeouts; policy: UpstreamPolicy; hooks: ForwardHooks }): Forwarder {
  const { timeouts, policy, hooks } = deps;
  const agents = new Map<string, http.Agent>();
  const proxy = createHttpProxy({ selfHandleResponse: true, changeOrigin: true, xfwd: false });

  // Errors reach the per-call callbacks; this only keeps a stray one (WebSocket sockets) from
  // being thrown by the EventEmitter.
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
    hooks.responded(flight, proxyRes.statusCode ?? 0, (performance.now() - flight.startedAt) / 1000);
    const streaming = writeHeadFrom(res, proxyRes, flight.requestId);
    if (streaming) res.flushHeaders();
    flight.proxyReq?.setTimeout(timeouts.idleTimeoutMs, () => flight.proxyReq?.destroy());
    // An upstream that stops mid-body must not leave the client waiting for bytes that never come.
    proxyRes.once('close', () => {
      if (!proxyRes.complete) res.destroy();
    });
    proxyRes.pipe(res);
  });

  proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
    // Until the upstream's 101, a handshake is bounded like a request's headers; a client that
    // leaves before it takes the upstream request along.
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
    sendAnswer(flight.res, code, flight.requestId);
  }

  function agentFor(target: URL): http.Agent {
    let agent = agents.get(target.origin);
    if (!agent) agents.set(target.origin, (agent = createPolicyAgent(target.protocol, policy)));
    return agent;
  }

  return {
    web(req, res, deployment, path) {
      const requestId = requestIdOf(req);
      const flight: Flight = {
        deployment,
        requestId,
        startedAt: performance.now(),
        res,
        proxyReq: null,
        timer: null,
        timedOut: false,
        settled: false,
      };
      const target = deployment.upstream;
      if (target === null) {
        fail(flight, new Error(`deployment ${deployment.label} has no usable upstream URL`));
        return;
      }
      (res as WithFlight)[FLIGHT] = flight;
      rewriteRequestHeaders(req, requestId, false);
      req.url = path;
      flight.timer = setTimeout(onTimeout, timeouts.headersTimeoutMs, flight);
      res.once('close', () => {
        clearTimeout(flight.timer!);
        if (res.writableFinished) return;
        // The client left: the upstream request goes too, whatever phase it was in.
        flight.proxyReq?.destroy();
        if (!flight.settled) {
          flight.settled = true;
          hooks.clientClosed(flight);
        }
      });
      proxy.web(req, res, { target, agent: agentFor(target) }, (err) => {
        if (res.destroyed && !res.writableFinished && !flight.settled) {
          flight.settled = true;
          hooks.clientClosed(flight);
          return;
        }
        fail(flight, err);
      });
    },

    ws(req, socket, head, deployment, path) {
      const target = deployment.upstream;
      if (target === null) {
        sendAnswerOnSocket(socket, 'upstream_unavailable');
        return;
      }
      rewriteRequestHeaders(req, requestIdOf(req), true);
      req.url = path;
      proxy.ws(req, socket, head, { target, agent: agentFor(target) }, (err) => {
        const code: UpstreamFailure = (err as NodeJS.ErrnoException).code === UPSTREAM_REFUSED ? 'upstream_refused' : 'upstream_unavailable';
        sendAnswerOnSocket(socket, code);
      });
    },

    release(origin) {
      agents.get(origin)?.destroy();
      agents.delete(origin);
    },

    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

/** The client's X-Request-Id when it has a sane length, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const id = req.headers['x-request-id'];
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_REQUEST_ID ? id : randomUUID();
}

/** What the upstream is told: its own Host (changeOrigin), the proxy's X-Forwarded-*, no keygate
 *  credentials, no hop-by-hop headers (except an upgrade's). Mutates req.headers, which the proxy
 *  library copies into the upstream request. */
function rewriteRequestHeaders(req: IncomingMessage, requestId: string, upgrade: boolean): void {
  const h = req.headers;
  for (const name of DROPPED_REQUEST_HEADERS) if (h[name] !== undefined) delete h[name];
  // Another Bearer is the upstream's business; a keygate key never leaves the proxy.
  if (h.authorization !== undefined && keygateBearer(h.authorization) !== null) delete h.authorization;
  if (!upgrade) {
    const connection = h.connection;
    if (connection !== undefined) {
      for (const token of connection.split(',')) {
        const name = token.trim().toLowerCase();
        if (name !== '' && name !== 'close' && name !== 'keep-alive') delete h[name];
      }
      delete h.connection;
    }
    if (h.upgrade !== undefined) delete h.upgrade;
  }
  h['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  h['x-forwarded-proto'] = req.socket instanceof TLSSocket ? 'https' : 'http';
  if (h.host !== undefined) h['x-forwarded-host'] = h.host;
  else if (h['x-forwarded-host'] !== undefined) delete h['x-forwarded-host'];
  h['x-request-id'] = requestId;
}

/** Writes the upstream's status and headers, less hop-by-hop ones; says whether the body is a
 *  stream (no Content-Length), whose headers should leave at once. */
function writeHeadFrom(res: ServerResponse, proxyRes: IncomingMessage, requestId: string): boolean {
  const raw = proxyRes.rawHeaders;
  const out: string[] = [];
  let hasLength = false;
  let hasRequestId = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP_RESPONSE.has(name)) continue;
    if (name === 'content-length') hasLength = true;
    else if (name === 'x-request-id') hasRequestId = true;
    out.push(raw[i]!, raw[i + 1]!);
  }
  if (!hasRequestId) out.push('x-request-id', requestId);
  res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, out);
  return !hasLength;
}

/** A keep-alive agent whose connections obey the upstream policy: names through its lookup, and
 *  address literals (which never reach a lookup) checked before connecting. */
function createPolicyAgent(protocol: string, policy: UpstreamPolicy): http.Agent {
  const options = { keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 256, scheduling: 'lifo' as const, lookup: policy.lookup };
  const agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  const connect = agent.createConnection.bind(agent) as (o: object, cb: (err: Error | null, s?: Socket) => void) => Socket | undefined;
  (agent as unknown as { createConnection: typeof connect }).createConnection = (o, cb) => {
    const host = (o as { host?: string }).host ?? '';
    if (isIP(host) !== 0 && policy.isRefused(host)) {
      cb(policy.refusal(host, host));
      return undefined;
    }
    return connect(o, cb);
  };
  return agent;
}
