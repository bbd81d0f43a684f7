// The data-plane proxy server: route → readiness gate → deployment lookup → authorize → forward,
// for plain requests and WebSocket upgrades alike, plus /-/healthz, /-/readyz and /-/metrics.
// Per request: in-memory lookups only, no database or network call before the upstream's.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type ProxyErrorCode, sendAnswer, sendAnswerOnSocket } from './answers.ts';
import type { AuthTable, DeploymentEntry } from './auth-table.ts';
import { authorizeRequest, KeyMemo } from './authorize.ts';
import { createForwarder, type ForwardHooks } from './forward.ts';
import { createProxyMetrics, type ProxyMetrics } from './metrics.ts';
import { createRouter, type InternalEndpoint } from './routing.ts';
import { createUsageMeter } from './usage-meter.ts';
import { createUpstreamPolicy } from '../domain/upstream-policy.ts';
import type { UsageAggregator } from '../usage/aggregator.ts';

export type ProxyStatus = 'ready' | 'not_ready' | 'feed_unavailable';

export interface ProxyServerConfig {
  host: string;
  port: number;
  baseDomain: string;
  upstream: {
    connectTimeoutMs: number;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    allow: readonly string[];
    deny: readonly string[];
  };
  /** client-side limits; the defaults suit model clients that upload prompts and hold streams open */
  client?: { headersTimeoutMs?: number; requestTimeoutMs?: number; keepAliveTimeoutMs?: number };
}

export interface ProxyServerDeps {
  table: AuthTable;
  config: ProxyServerConfig;
  log: Logger;
  registry: Registry;
  /** where the feed stands; read on every request, so it must be cheap */
  status: () => ProxyStatus;
  /** counts usage per (deployment, key, minute); absent: metering off */
  usage?: UsageAggregator;
}

export interface ProxyServer {
  readonly server: http.Server;
  readonly metrics: ProxyMetrics;
  start(): Promise<{ port: number }>;
  /** readiness turns 503, no new connections, in-flight requests and streams get drainMs, then
   *  every remaining connection and upstream pool is closed */
  stop(drainMs?: number): Promise<void>;
}

const KEY_MEMO = Symbol('keygate.keyMemo');
type MemoSocket = Socket & { [KEY_MEMO]?: KeyMemo };
const keyMemoOf = (socket: MemoSocket): KeyMemo => (socket[KEY_MEMO] ??= new KeyMemo());

const CLIENT_HEADERS_TIMEOUT_MS = 30_000;
const CLIENT_REQUEST_TIMEOUT_MS = 300_000;
// Above the 60 s idle timeout of common load balancers, so they close first, not the proxy.
const CLIENT_KEEP_ALIVE_TIMEOUT_MS = 65_000;
const DEFAULT_DRAIN_MS = 10_000;

export function createProxyServer(deps: ProxyServerDeps): ProxyServer {
  const { table, config, registry, status } = deps;
  const log = deps.log.child({ component: 'proxy' });
  const route = createRouter(config.baseDomain);
  const metrics = createProxyMetrics(registry, {
    revision: () => table.revision,
    status: () => (draining ? 'not_ready' : status()),
  });
  let draining = false;
  const meter = deps.usage ? createUsageMeter(deps.usage, table) : null;

  const hooks: ForwardHooks = {
    responded(f, statusCode, seconds, upstream) {
      meter?.responded(f.deployment, f.keyId, statusCode, upstream);
      const m = metrics.deployment(f.deployment.label);
      m.requests.forwarded.inc();
      m.upstreamSeconds.observe(seconds);
      if (log.isLevelEnabled('debug')) {
        log.debug({ deployment: f.deployment.label, requestId: f.requestId, status: statusCode, ms: Math.round(seconds * 1000) }, 'forwarded');
      }
    },
    failed(f, code, error) {
      meter?.failed(f.deployment, f.keyId);
      const publicCode = code === 'upstream_refused' ? 'upstream_unavailable' : code;
      metrics.deployment(f.deployment.label).requests[publicCode].inc();
      metrics.rejected(publicCode);
      log.warn({ deployment: f.deployment.label, requestId: f.requestId, code, err: error.message }, 'upstream failed');
    },
    clientClosed(f) {
      meter?.clientClosed(f.deployment, f.keyId);
      metrics.deployment(f.deployment.label).requests.client_closed.inc();
      log.debug({ deployment: f.deployment.label, requestId: f.requestId }, 'client closed before the upstream answered');
    },
  };
  const forwarder = createForwarder({
    timeouts: config.upstream,
    policy: createUpstreamPolicy(config.upstream),
    hooks,
  });

  const stopWatchingTable = table.onRetired((d) => {
    if (table.findDeployment(d.projectSlug, d.name) === undefined) metrics.forget(d.label);
    if (!table.usesOrigin(d.origin)) forwarder.release(d.origin);
  });

  /** The checks every request to a deployment goes through, plain or upgrade, in this order. */
  function admit(req: IncomingMessage): { deployment: DeploymentEntry; path: string; keyId: string | null } | ProxyErrorCode | InternalEndpoint {
    const r = route(req.headers.host, req.url ?? '/');
    if (r.kind === 'internal') return r.endpoint;
    if (r.kind === 'none') return 'deployment_not_found';
    // Before the first snapshot the table cannot tell a missing deployment from an unknown one.
    if (draining) return 'not_ready';
    const s = status();
    if (s !== 'ready') return s;
    const deployment = table.findDeployment(r.projectSlug, r.name);
    if (deployment === undefined) return 'deployment_not_found';
    const memo = keyMemoOf(req.socket as MemoSocket);
    const auth = authorizeRequest(table, deployment, req.rawHeaders, Date.now(), memo);
    if (!auth.ok) {
      metrics.deployment(deployment.label).requests.rejected.inc();
      meter?.refused(deployment, req.rawHeaders, memo);
      return auth.code;
    }
    // With metering on, lastUsedAt is part of the usage flush.
    if (auth.keyId !== null && meter === null) table.recordUse(auth.keyId);
    return { deployment, path: r.path, keyId: auth.keyId };
  }

  function reject(code: ProxyErrorCode, req: IncomingMessage) {
    metrics.rejected(code);
    if (log.isLevelEnabled('debug')) log.debug({ method: req.method, code }, 'rejected');
  }

  function onRequest(req: IncomingMessage, res: ServerResponse, expectsContinue = false) {
    if (draining) res.shouldKeepAlive = false;
    const admitted = admit(req);
    if (typeof admitted === 'object') {
      // The client waited to send its body until the key was checked.
      if (expectsContinue) res.writeContinue();
      forwarder.web(req, res, admitted.deployment, admitted.path, admitted.keyId);
    } else if (admitted === 'healthz' || admitted === 'readyz' || admitted === 'metrics') {
      serveInternal(admitted, res);
    } else {
      reject(admitted, req);
      sendAnswer(res, admitted);
    }
  }

  const upgraded = new Set<Duplex>();
  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    const admitted = admit(req);
    if (typeof admitted !== 'object') {
      const code = admitted === 'healthz' || admitted === 'readyz' || admitted === 'metrics' ? 'deployment_not_found' : admitted;
      reject(code, req);
      sendAnswerOnSocket(socket, code);
      return;
    }
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    meter?.upgraded(admitted.deployment, admitted.keyId);
    forwarder.ws(req, socket, head, admitted.deployment, admitted.path);
  }

  function readiness(): string {
    return draining ? 'draining' : status();
  }

  function serveInternal(endpoint: InternalEndpoint, res: ServerResponse) {
    if (endpoint === 'healthz') return sendJson(res, 200, { status: 'ok' });
    if (endpoint === 'readyz') {
      const state = readiness();
      return sendJson(res, state === 'ready' ? 200 : 503, { status: state, revision: table.revision });
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        res.end(body);
      },
      (error: Error) => {
        log.error({ err: error.message }, 'metrics collection failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  }

  const client = config.client ?? {};
  const server = http.createServer({
    headersTimeout: client.headersTimeoutMs ?? CLIENT_HEADERS_TIMEOUT_MS,
    requestTimeout: client.requestTimeoutMs ?? CLIENT_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: client.keepAliveTimeoutMs ?? CLIENT_KEEP_ALIVE_TIMEOUT_MS,
    // How often Node enforces the two timeouts above (its default, 30 s, lets slow clients linger).
    connectionsCheckingInterval: Math.min(1000, client.headersTimeoutMs ?? CLIENT_HEADERS_TIMEOUT_MS),
  });
  server.on('request', onRequest);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => onRequest(req, res, true));
  server.on('upgrade', onUpgrade);

  const closed = new Promise<void>((resolve) => server.once('close', resolve));
  let stopping: Promise<void> | undefined;

  return {
    server,
    metrics,
    start() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const { port } = server.address() as AddressInfo;
          log.info({ host: config.host, port }, 'proxy listening');
          resolve({ port });
        });
      });
    },
    stop(drainMs = DEFAULT_DRAIN_MS) {
      stopping ??= drain(drainMs);
      return stopping;
    },
  };

  async function drain(drainMs: number) {
    draining = true;
    stopWatchingTable();
    if (!server.listening) {
      forwarder.close();
      return;
    }
    log.info({ drainMs }, 'proxy draining');
    server.close();
    // Connections whose last request finished are closed as they become idle.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, drainMs)))]);
    clearTimeout(timer);
    clearInterval(sweep);
    server.closeAllConnections();
    for (const socket of upgraded) socket.destroy();
    forwarder.close();
    await closed;
    log.info('proxy stopped');
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
