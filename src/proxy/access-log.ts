// The access log (KEYGATE_ACCESS_LOG=true): one line per request the proxy routed to a deployment
// or refused, written when the response closes. Never the key's secret or hash: its name only.
// Off by default; when off, nothing here runs on the request path.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { RefusalReason } from './authorize.ts';
import type { TokenCounts } from '../usage/usage-tap.ts';

/** What the request path knows about one request, hung on its response. */
export interface AccessEntry {
  /** performance.now() when the request was admitted or refused */
  readonly startedAt: number;
  /** the path the client asked for, without its query (the client's business) */
  readonly path: string;
  /** "<project>/<deployment>", null when no deployment matched */
  deployment: string | null;
  /** the key's name, null for no key, an open deployment or an unknown key */
  key: string | null;
  /** why the proxy refused the request (a key refusal), if it did */
  reason: RefusalReason | null;
  /** usage metering's reader of the response body (usage-meter.ts): the tokens it found by the
   *  time the line is written; null with metering off or a body it cannot read */
  tokens: { readonly usage: TokenCounts | null } | null;
}

const ENTRY = Symbol('keygate.access');
type WithEntry = ServerResponse & { [ENTRY]?: AccessEntry };

export interface AccessLog {
  /** Starts the line of a request; the line is written when its response closes. */
  begin(res: ServerResponse): AccessEntry;
  /** The line of `res` (if it has one) reports the tokens `reader` finds in the response. */
  tokensFrom(res: ServerResponse, reader: { readonly usage: TokenCounts | null }): void;
}

export function createAccessLog(log: Logger): AccessLog {
  const access = log.child({ component: 'access' });

  // Shared by every response: `this` is the response, so no closure is made per request.
  function write(this: WithEntry) {
    const entry = this[ENTRY]!;
    const req = this.req;
    const id = req.headers['x-request-id'];
    access.info(
      {
        // The forwarder writes the request id it sent upstream into the request's headers.
        requestId: typeof id === 'string' ? id : null,
        method: req.method,
        path: entry.path,
        deployment: entry.deployment,
        key: entry.key,
        // 499: the client left before a response started (nginx's convention).
        status: this.headersSent ? this.statusCode : 499,
        ms: Math.round((performance.now() - entry.startedAt) * 10) / 10,
        ...(entry.reason === null ? {} : { reason: entry.reason }),
        ...(entry.tokens?.usage ? { tokens: { prompt: entry.tokens.usage.promptTokens, completion: entry.tokens.usage.completionTokens } } : {}),
        ...(this.headersSent && !this.writableFinished ? { cut: true } : {}),
      },
      'request',
    );
  }

  return {
    begin(res) {
      const url = res.req.url ?? '';
      const q = url.indexOf('?');
      const entry: AccessEntry = { startedAt: performance.now(), path: q === -1 ? url : url.slice(0, q), deployment: null, key: null, reason: null, tokens: null };
      (res as WithEntry)[ENTRY] = entry;
      res.once('close', write);
      return entry;
    },
    tokensFrom(res, reader) {
      const entry = (res as WithEntry)[ENTRY];
      if (entry) entry.tokens = reader;
    },
  };
}
