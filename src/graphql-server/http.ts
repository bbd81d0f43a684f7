// The node:http server under the control plane, with its limits: header and request timeouts,
// header size, and request bodies refused before anything reads them (413 too large, 411 a body
// of unknown length).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** HTTP limits of the control plane (tests shorten them). */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
  /** GraphQL request bodies; larger ones are 413, bodies of unknown length 411 */
  maxBodyBytes: number;
}

export const HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 1024 * 1024,
};

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Refuses a body that is too large before anything reads it. */
function refuseBody(req: IncomingMessage, maxBytes: number): { status: number; message: string } | null {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return null;
  const declared = req.headers['content-length'];
  if (declared === undefined) {
    return req.headers['transfer-encoding'] ? { status: 411, message: 'send the request body with a Content-Length' } : null;
  }
  return Number(declared) > maxBytes ? { status: 413, message: `the request body is larger than ${maxBytes} bytes` } : null;
}

/** An HTTP server that applies `limits` and hands every request it accepts to `handle`. */
export function createLimitedServer(limits: HttpLimits, handle: RequestHandler): Server {
  const server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const refusal = refuseBody(req, limits.maxBodyBytes);
      if (refusal) {
        res.writeHead(refusal.status, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: 'BAD_REQUEST' } }] }));
        req.resume();
        return;
      }
      handle(req, res);
    },
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  return server;
}

/** Listens on host:port (port 0: any free port) and answers the port taken. */
