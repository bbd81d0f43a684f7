// Helpers for the proxy hardening tests: a byte-exact HTTP/1.x client over a raw socket (for what
// fetch and http.request refuse to send: duplicated headers as is, obs-text bytes, control bytes,
// odd request targets), a small response parser, an upstream that records requests by a marker
// header, and counts of the process's open handles.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Snapshot } from '../../src/feed/events.ts';
import { AuthTable } from '../../src/proxy/auth-table.ts';
import { createProxyServer, type ProxyServer, type ProxyServerConfig } from '../../src/proxy/proxy-server.ts';
import type { AddressInfo } from 'node:net';

// Unlike test/proxy/helpers.ts, nothing here is disposed after each test: these servers live for
// a whole file (beforeAll/afterAll), and the caller stops them.

export function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// ---------- a proxy ----------

export interface HardenedProxy {
  port: number;
  table: AuthTable;
  proxy: ProxyServer;
  stop(): Promise<void>;
}

export async function startHardenedProxy(snapshot: Snapshot, upstream: Partial<ProxyServerConfig['upstream']> = {}): Promise<HardenedProxy> {
  const table = new AuthTable();
  table.load(snapshot);
  const proxy = createProxyServer({
    table,
    config: {
      host: '127.0.0.1',
      port: 0,
      baseDomain: 'keygate.test',
      upstream: { connectTimeoutMs: 2000, headersTimeoutMs: 10_000, idleTimeoutMs: 10_000, allow: [], deny: [], ...upstream },
    },
    log: pino({ level: 'silent' }),
    registry: new Registry(),
    status: () => 'ready',
  });
  const { port } = await proxy.start();
  return { port, table, proxy, stop: () => proxy.stop(0) };
}

// ---------- a raw client ----------

export interface RawAnswer {
  /** 0 when no status line came back */
  status: number;
  /** lowercased names, in order */
  headers: Array<[string, string]>;
  body: string;
  /** how the connection ended: the server closed it, it was reset, or we gave up */
  ended: 'closed' | 'error' | 'timeout';
  error?: string;
  raw: string;
}

export function header(answer: RawAnswer, name: string): string | undefined {
  return answer.headers.find(([n]) => n === name)?.[1];
}

/** Writes `bytes` on a fresh connection and reads until the server closes it (the request should
 *  say Connection: close). Never rejects. */
export function rawExchange(port: number, bytes: Buffer, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let ended: RawAnswer['ended'] = 'closed';
    let error: string | undefined;
    const timer = setTimeout(() => {
      ended = 'timeout';
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      ended = 'error';
      error = e.code ?? e.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(parts).toString('latin1');
      resolve({ ...parseResponse(raw), ended, error, raw });
    });
    // Not end(): Node's HTTP server takes a half-closed client for a client that left (it aborts
    // the request), so the request is written and the server closes (Connection: close).
    socket.write(bytes);
  });
}

/** The first final (non-1xx) response in `raw`; body decoded from chunked when it is. */
export function parseResponse(raw: string): Pick<RawAnswer, 'status' | 'headers' | 'body'> {
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) return { status: 0, headers: [], body: rest };
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers = lines.slice(1).map((l): [string, string] => {
      const colon = l.indexOf(':');
      // HTTP's whitespace only: String.trim() would also eat obs-text such as 0xA0
      return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')];
    });
    rest = rest.slice(end + 4);
    if (status >= 100 && status < 200 && status !== 101) continue; // 101 ends HTTP on the connection
    const chunked = headers.some(([n, v]) => n === 'transfer-encoding' && /chunked/i.test(v));
    return { status, headers, body: chunked ? dechunk(rest) : rest };
  }
}

function dechunk(s: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = s.indexOf('\r\n', i);
    if (eol === -1) return out;
    const size = parseInt(s.slice(i, eol), 16);
    if (!(size > 0)) return out;
    out += s.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}

// ---------- an upstream that records by marker ----------

export const MARKER = 'x-fuzz-id';

export interface MarkedRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  /** how many times this marker arrived */
  count: number;
}

export interface MarkerUpstream {
  port: number;
  url: string;
  server: http.Server;
  /** marker → what arrived with it */
  byMarker: Map<string, MarkedRequest>;
  /** every request, marked or not */
  total(): number;
  /** requests whose response was cut by a closed connection, and requests still open */
  aborted: Set<string>;
  open: Set<string>;
  stop(): Promise<void>;
}

type MarkedHandler = (req: IncomingMessage, res: ServerResponse, marker: string) => void;

const echoMarker: MarkedHandler = (req, res, marker) => {
  const body = JSON.stringify({ marker, url: req.url });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': 'yes' });
  res.end(body);
};

/** Records each request by its X-Fuzz-Id before answering with `handler` (after the body). */
export async function startMarkerUpstream(handler: MarkedHandler = echoMarker, options: http.ServerOptions = {}): Promise<MarkerUpstream> {
  const byMarker = new Map<string, MarkedRequest>();
  const aborted = new Set<string>();
  const open = new Set<string>();
  let total = 0;
  const server = http.createServer({ keepAliveTimeout: 60_000, ...options }, (req, res) => {
    total++;
    const marker = String(req.headers[MARKER] ?? `unmarked-${total}`);
    const seen = byMarker.get(marker);
    if (seen) seen.count++;
    else byMarker.set(marker, { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, count: 1 });
    open.add(marker);
    res.once('close', () => {
      open.delete(marker);
      if (!res.writableFinished) aborted.add(marker);
    });
    req.resume();
    req.once('end', () => handler(req, res, marker));
  });
  // A WebSocket handshake is recorded the same way and accepted with a 101, then the socket ends.
  server.on('upgrade', (req: IncomingMessage, socket: net.Socket) => {
    total++;
    const marker = String(req.headers[MARKER] ?? `unmarked-${total}`);
    const seen = byMarker.get(marker);
    if (seen) seen.count++;
    else byMarker.set(marker, { method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, count: 1 });
    socket.on('error', () => {});
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Upstream: yes\r\n\r\n');
  });
  const port = await listen(server);
  const stop = () => closeServer(server);
  return { port, url: `http://127.0.0.1:${port}`, server, byMarker, total: () => total, aborted, open, stop };
}

// ---------- handles ----------

/** Counts of the process's active resources by type (TCPSocketWrap, TCPServerWrap, Timeout, …). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

export function connectionsOf(server: http.Server | net.Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

/** Polls `read` until `ok` holds of it or `timeoutMs` passes; returns the last reading. */
export async function settle<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    v = await read();
  }
  return v;
}

/** Runs `task` over 0…n-1 with at most `limit` at a time; the first failure stops the rest. */
export async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < n && !failed) {
      try {
        await task(next++);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

/** Errors that escape to the process while a test runs: none is allowed. */
export function watchProcessErrors(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (e: unknown) => errors.push(e);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    stop() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}
