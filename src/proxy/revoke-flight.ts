// How a request in flight ends when its key no longer opens its deployment (docs/architecture.md,
// "Cutting requests in flight"): in-flight.ts calls the flight's revoke (revokeFlight, the client's
// side) before the proxy acks the change, and its release (releaseFlight, the upstream's side)
// right after. Shared by every flight, called with the flight as this: no closure per request.
import { sendAnswer } from './answers.ts';
import type { Flight } from './flight.ts';

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
export function revokeFlight(this: Flight) {
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
export function releaseFlight(this: Flight) {
  this.proxyRes?.destroy();
  this.proxyReq?.destroy();
}
