// A forwarded request until its upstream's headers arrive, and every way it fails before them: the
// connect and headers timeouts (504 upstream_timeout), a refused or unreachable upstream (502
// upstream_refused / upstream_unavailable), the client leaving first (the upstream request goes
// too). Each failure answers for itself, tells the hooks once, and none throws. Also where a flight
// leaves the in-flight registry, when the client's response closes. The handlers are made once per
// forwarder and shared by every request (the flight hangs on the response): no closures per request.
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { sendAnswer } from './answers.ts';
import { FLIGHT, type Flight, type FlightRegistry, type ForwardHooks, type ForwardTimeouts, type UpstreamFailure, type WithFlight } from './flight.ts';
import type { Revocable } from './in-flight.ts';
import { UPSTREAM_REFUSED } from '../domain/upstream-policy.ts';

/** What a failed upstream is answered with: a timeout, a connection the upstream policy refused, or any other failure. */
export function upstreamFailure(error: NodeJS.ErrnoException, timedOut: boolean): UpstreamFailure {
  return timedOut ? 'upstream_timeout' : error.code === UPSTREAM_REFUSED ? 'upstream_refused' : 'upstream_unavailable';
}

export function createFailureHandlers(timeouts: ForwardTimeouts, hooks: ForwardHooks, inFlight: FlightRegistry | null) {
  /** The proxy library's 'proxyReq': the upstream request is the flight's, and a fresh connection
   *  gets the connect timeout before the headers timeout. */
  function onProxyReq(proxyReq: ClientRequest, _req: IncomingMessage, res: ServerResponse, _options: unknown, socket: Socket) {
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
  }

  function onTimeout(flight: Flight) {
    flight.timedOut = true;
    if (flight.proxyReq) flight.proxyReq.destroy(new Error('upstream timed out'));
    else fail(flight, new Error('upstream timed out before a connection was available'));
  }

  function fail(flight: Flight, error: NodeJS.ErrnoException) {
    clearTimeout(flight.timer!);
    if (flight.settled) return;
    flight.settled = true;
    const code = upstreamFailure(error, flight.timedOut);
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

  /** The error callback of every proxy call. */
  function onProxyError(err: Error, _req: IncomingMessage, res: ServerResponse | Socket) {
    const flight = (res as WithFlight)[FLIGHT]!;
    if (flight.res.destroyed && !flight.res.writableFinished && !flight.settled) {
      flight.settled = true;
      hooks.clientClosed(flight);
      return;
    }
    fail(flight, err);
  }

  return { onProxyReq, onTimeout, fail, onClientClose, onProxyError };
}
