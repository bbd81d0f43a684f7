// Test helpers for the proxy: upstreams that record what reached them, a proxy over a hand-made
// Snapshot, a plain HTTP client. Everything listens on port 0 and is closed after each test,
// even when the test forgets (the leftovers list).
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { type IssuedSecret, issueSecret } from '../../src/domain/secrets.ts';
import type { DeploymentState, KeyState, Snapshot } from '../../src/feed/events.ts';
import { AuthTable } from '../../src/proxy/auth-table.ts';
import { createProxyServer, type ProxyServerConfig, type ProxyServerDeps, type ProxyStatus } from '../../src/proxy/proxy-server.ts';
import { createStatusServer } from '../../src/proxy/status-server.ts';

const leftovers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(leftovers.splice(0).map((dispose) => dispose().catch(() => {})));
});

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export interface RecordingUpstream {
  port: number;
  url: string;
  received: Received[];
  /** requests whose connection closed before the upstream finished answering */
  aborted: string[];
  server: http.Server;
  stop(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const defaultHandler: Handler = (req, res) => {
  const body = JSON.stringify({ ok: true, path: req.url });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/** An upstream that records every request (after reading its body) and answers with `handler`. */
export async function startUpstream(handler: Handler = defaultHandler): Promise<RecordingUpstream> {
  const received: Received[] = [];
  const aborted: string[] = [];
  const server = http.createServer((req, res) => {
    res.once('close', () => {
      if (!res.writableFinished) aborted.push(req.url ?? '');
    });
    const parts: Buffer[] = [];
    req.on('data', (p: Buffer) => parts.push(p));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body });
      handler(req, res, body);
    });
  });
  const port = await listen(server);
  const stop = () => closeServer(server);
  leftovers.push(stop);
  return { port, url: `http://127.0.0.1:${port}`, received, aborted, server, stop };
}

export function listen(server: http.Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Registers a disposer to run after the test. */
export function dispose(fn: () => Promise<void>): void {
  leftovers.push(fn);
}

// ---------- a hand-made world ----------

export interface World {
  snapshot: Snapshot;
  /** linked to acme/chat */
  linked: IssuedSecret;
  /** acme's, linked to nothing */
  unlinked: IssuedSecret;
  /** acme's, linked to acme/chat, expired */
  expired: IssuedSecret;
  /** acme's, linked to acme/chat, expires in an hour */
  expiring: IssuedSecret;
  /** globex's, linked to globex/chat */
  otherProject: IssuedSecret;
  keyIds: Record<'linked' | 'unlinked' | 'expired' | 'expiring' | 'otherProject', string>;
}

export const P1 = '11111111-1111-4111-8111-111111111111';
export const P2 = '22222222-2222-4222-8222-222222222222';

/** Project acme: deployment chat (auth on) and open (auth off); project globex: chat (auth on). */
export function makeWorld(upstreams: { chat: string; open?: string; other?: string }): World {
  const linked = issueSecret('kg_');
  const unlinked = issueSecret('kg_');
  const expired = issueSecret('kg_');
  const expiring = issueSecret('kg_');
  const otherProject = issueSecret('kg_');
  const keyIds = { linked: 'k-linked', unlinked: 'k-unlinked', expired: 'k-expired', expiring: 'k-expiring', otherProject: 'k-other' };
  const key = (id: string, projectId: string, s: IssuedSecret, expiresAt: string | null = null): KeyState => ({
    id,
    projectId,
    name: `${id.slice(2)}-key`,
    hash: s.hash,
    expiresAt,
  });
  const deployment = (id: string, projectId: string, projectSlug: string, name: string, upstreamUrl: string, authEnabled: boolean, apiKeyIds: string[]): DeploymentState => ({
    id,
    projectId,
    projectSlug,
    name,
    upstreamUrl,
    authEnabled,
    apiKeyIds,
  });
  return {
    linked,
    unlinked,
    expired,
    expiring,
    otherProject,
    keyIds,
    snapshot: {
      revision: 10,
      apiKeys: [
        key(keyIds.linked, P1, linked),
        key(keyIds.unlinked, P1, unlinked),
        key(keyIds.expired, P1, expired, new Date(Date.now() - 60_000).toISOString()),
        key(keyIds.expiring, P1, expiring, new Date(Date.now() + 3_600_000).toISOString()),
        key(keyIds.otherProject, P2, otherProject),
      ],
      deployments: [
        deployment('d-chat', P1, 'acme', 'chat', upstreams.chat, true, [keyIds.linked, keyIds.expired, keyIds.expiring]),
        deployment('d-open', P1, 'acme', 'open', upstreams.open ?? upstreams.chat, false, [keyIds.linked]),
        deployment('d-other', P2, 'globex', 'chat', upstreams.other ?? upstreams.chat, true, [keyIds.otherProject]),
      ],
    },
  };
}

// ---------- a proxy ----------

export interface TestProxy {
  port: number;
  /** the status listener (/metrics) on the same registry */
  statusPort: number;
  base: string;
  table: AuthTable;
  registry: Registry;
  setStatus(s: ProxyStatus): void;
  stop(drainMs?: number): Promise<void>;
}

export async function startProxy(
  snapshot: Snapshot,
  overrides: Partial<ProxyServerConfig['upstream']> &
    Pick<ProxyServerConfig, 'maxConnections' | 'accessLog'> &
    Pick<ProxyServerDeps, 'usage' | 'rateLimiter'> & { baseDomain?: string } = {},
  log: Logger = pino({ level: 'silent' }),
): Promise<TestProxy> {
  const table = new AuthTable();
  table.load(snapshot);
  const registry = new Registry();
  let status: ProxyStatus = 'ready';
  const { baseDomain = 'keygate.test', maxConnections, accessLog, usage, rateLimiter, ...upstream } = overrides;
  const proxy = createProxyServer({
    table,
    config: {
      host: '127.0.0.1',
      port: 0,
      baseDomain,
      upstream: { connectTimeoutMs: 2000, headersTimeoutMs: 5000, idleTimeoutMs: 5000, allow: [], deny: [], ...upstream },
      maxConnections,
      accessLog,
    },
    log,
    registry,
    status: () => status,
    usage,
    rateLimiter,
  });
  const { port } = await proxy.start();
  const statusServer = createStatusServer({ host: '127.0.0.1', port: 0, registry, log });
  const { port: statusPort } = await statusServer.start();
  const stop = async (drainMs = 0) => {
    await proxy.stop(drainMs);
    await statusServer.stop();
  };
  leftovers.push(() => stop());
  return { port, statusPort, base: `http://127.0.0.1:${port}`, table, registry, setStatus: (s) => (status = s), stop };
}

// ---------- a client ----------

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): any;
}

/** One request with a fresh connection; `headers` may be a raw [name, value, …] list to send
 *  duplicates. */
export function request(
  port: number,
  path: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders | string[]; body?: string; host?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = options.headers ?? {};
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
        headers: Array.isArray(headers) ? headers : { ...(options.host ? { host: options.host } : {}), ...headers },
        agent: false,
        setHost: !(Array.isArray(headers) || options.host),
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (p: Buffer) => parts.push(p));
        res.on('end', () => {
          const body = Buffer.concat(parts).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds; the default deadline is a hang guard with room for a loaded machine. */
export async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
