// The relay of an upstream's response to the client, by hand (the proxy library's
// selfHandleResponse): one writeHead from the upstream's raw headers, a stream's headers sent at
// once (with its first chunk when both came together), the hooks told (what they return reads the body: usage metering), then every chunk
// written to the client by one shared 'data' listener that also hands it to that reader, pausing
// the upstream while the client's buffer is full; the client's response cut when the upstream cuts
// or falls silent (the idle timeout). Per response nothing here allocates closures: the flight
// hangs on the upstream's response and the listeners are shared.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FLIGHT, type Flight, type ForwardHooks, type Relayed, type WithFlight } from './flight.ts';

const HOP_BY_HOP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection']);
const LOOKED_AT_RESPONSE_LENGTHS = new Set([...HOP_BY_HOP_RESPONSE, 'content-length', 'x-request-id'].map((name) => name.length));

/** The proxy library's 'proxyRes' handler, made once per forwarder; fail answers a header Node refuses to write. */
export function createResponseRelay(hooks: ForwardHooks, idleTimeoutMs: number, fail: (flight: Flight, error: Error) => void) {
  return function onProxyRes(proxyRes: IncomingMessage, _req: IncomingMessage, res: ServerResponse) {
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
    // A stream's headers leave at once: with its first chunk when that came in the same read (one
    // write instead of two), else on their own right after this turn of the event loop.
    if (streaming) setImmediate(flushHeadersIfUnsent, flight);
    // Node emits the socket's timeouts on the response until it ends; destroying an unfinished
    // response closes its upstream connection too. (ClientRequest.setTimeout would add and remove
    // three listeners per request for the same.)
    proxyRes.socket?.setTimeout(idleTimeoutMs);
    (proxyRes as Relayed)[FLIGHT] = flight;
    proxyRes.on('timeout', cutSilentUpstream);
    proxyRes.on('close', onUpstreamClose);
    proxyRes.on('end', onUpstreamEnd);
    // Last: the listener starts the flow. (Readable.pipe would make some ten closures and listeners
    // on both sides per response.)
    proxyRes.on('data', relayChunk);
  };
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
  flight.bodyStarted = true;
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

function flushHeadersIfUnsent(flight: Flight) {
  const res = flight.res;
  if (!flight.bodyStarted && !flight.revoked && !res.destroyed && !res.writableEnded) res.flushHeaders();
}

/** The idle timeout: the upstream fell silent mid-response. The pool resets the socket's timeout
 *  when it takes a connection back. */
function cutSilentUpstream(this: IncomingMessage) {
  this.destroy();
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
