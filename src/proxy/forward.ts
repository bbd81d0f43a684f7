// Forwarding an authorized request to its deployment's upstream, through http-proxy-3 with keep-alive
// pools per upstream origin (upstreams.ts): a request's flight made and sent with the upstream's
// path and headers (upstream-request.ts), the response relayed by hand (response-relay.ts), every
// failure answered for itself (upstream-failure.ts: 502/504 before headers, a cut connection
// after) and none thrown; a revoked key's flight ended by revoke-flight.ts. WebSocket upgrades
// are tunnelled here too.
// http-proxy-3 rather than http-proxy 1.18.1: maintained, aborts the upstream request itself when the
// client leaves and routes WebSocket socket errors. Its request path costs about 90k instructions
// (25–30 µs) per request over sending the same request with http.request (callgrind, 2026-11-26):
// a quarter of the bare Node proxy's whole cost. Abort propagation is done here too, so either
// library behaves alike. Per request, nothing here allocates closures: the flight hangs on the
// response and the handlers are shared.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer as createHttpProxy } from 'http-proxy-3';
import { sendAnswerOnSocket } from './answers.ts';
import type { DeploymentEntry } from './auth-table.ts';
import type { Flight, FlightRegistry, ForwardHooks, ForwardTimeouts, WithFlight } from './flight.ts';
import { FLIGHT } from './flight.ts';
import type { Revocable } from './in-flight.ts';
import { createResponseRelay } from './response-relay.ts';
import { releaseFlight, revokeFlight } from './revoke-flight.ts';
import { createFailureHandlers, upstreamFailure } from './upstream-failure.ts';
import { requestIdOf, upstreamHeaders, upstreamPath } from './upstream-request.ts';
import { createUpstreams } from './upstreams.ts';
import type { UpstreamPolicy } from '../domain/upstream-policy.ts';

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

export function createForwarder(deps: { timeouts: ForwardTimeouts; policy: UpstreamPolicy; hooks: ForwardHooks; inFlight?: FlightRegistry }): Forwarder {
  const { timeouts, policy, hooks } = deps;
  const inFlight = deps.inFlight ?? null;
  const { upstreamOf, release, close } = createUpstreams(policy);
  const { onProxyReq, onTimeout, fail, onClientClose, onProxyError } = createFailureHandlers(timeouts, hooks, inFlight);
  // Path and Host are prepared here (upstreamPath, upstreamHeaders), so the library neither parses
  // URLs again nor rewrites headers.
  const proxy = createHttpProxy({ selfHandleResponse: true, changeOrigin: false, xfwd: false, prependPath: false, toProxy: true });

  // Errors reach the per-call callbacks; this only keeps a stray one (a WebSocket's) from being
  // thrown by the EventEmitter.
  proxy.on('error', () => {});
  proxy.on('proxyReq', onProxyReq);
  proxy.on('proxyRes', createResponseRelay(hooks, timeouts.idleTimeoutMs, fail));

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
        bodyStarted: false,
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
      // A handshake's timeout destroys the upstream request with an error of its own: answered as unavailable.
      const answer = (err: NodeJS.ErrnoException) => sendAnswerOnSocket(socket, upstreamFailure(err, false));
      try {
        proxy.ws(req, socket, head, upstream.options, answer);
      } catch (error) {
        answer(error as Error);
      }
    },

    release,
    close,
  };
}
