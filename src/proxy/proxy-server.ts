// The data-plane proxy server: route → readiness gate → deployment lookup → authorize → forward,
// for plain requests and WebSocket upgrades alike, plus /-/healthz and /-/readyz (metrics are on
// the status listener, status-server.ts). Per request: in-memory lookups only, no database or
// network call before the upstream's. A global cap bounds the open client connections. With
// metering on, every forwarded or refused request is counted (usage-meter.ts).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type AccessEntry, createAccessLog } from './access-log.ts';
import { type ProxyErrorCode, sendAnswer, sendAnswerOnSocket } from './answers.ts';
import type { AuthTable, DeploymentEntry } from './auth-table.ts';
import { type AuthResult, authorizeRequest, KeyMemo } from './authorize.ts';
import type { ForwardHooks } from './flight.ts';
import { createForwarder } from './forward.ts';
import { InFlightRegistry } from './in-flight.ts';
import { DEFAULT_DRAIN_MS, drainConnections } from '../runtime/drain.ts';
import { listen } from '../runtime/listen.ts';
import { createProxyMetrics, type ProxyMetrics } from './metrics.ts';
import { shapeProblem } from './request-shape.ts';
import { createRouter, type InternalEndpoint, type Route } from './routing.ts';
import { createUsageMeter } from './usage-meter.ts';
import { limitHeaders, sendRateLimited, sendRateLimitedOnSocket } from './rate-limit.ts';
import type { LimitDecision, RateLimiter } from '../ratelimit/limiter.ts';
import { createUpstreamPolicy, type UpstreamRules } from '../domain/upstream-policy.ts';
import type { UsageAggregator } from '../usage/aggregator.ts';

export type ProxyStatus = 'ready' | 'not_ready' | 'feed_unavailable';

export interface ProxyServerConfig {
  host: string;
  port: number;
  baseDomain: string;
  upstream: UpstreamRules & {
    connectTimeoutMs: number;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
  };
  /** open client connections accepted (default 10,000); the excess is answered 503 and closed */
  maxConnections?: number;
  /** one log line per request (KEYGATE_ACCESS_LOG) */
  accessLog?: boolean;
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
  /** per-key rate limits (docs/api.md, "Rate limits"); absent: none enforced */
  rateLimiter?: RateLimiter;
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
/** set on a connection accepted beyond the cap: its requests get 503 too_many_connections */
const OVER_CAP = Symbol('keygate.overCap');
type MemoSocket = Socket & { [KEY_MEMO]?: KeyMemo; [OVER_CAP]?: true };
const keyMemoOf = (socket: MemoSocket): KeyMemo => (socket[KEY_MEMO] ??= new KeyMemo());

/** A request that passed every check: where it goes, and the key that opened it (null: an open deployment). */
interface Admitted {
  deployment: DeploymentEntry;
  path: string;
  keyId: string | null;
  /** the hash of the secret that opened it (the current or, in an overlap, the previous one) */
  admittedHash: string | null;
  /** the key's rate-limit decision; null: the key has no limit. Refused: answer 429, forward nothing. */
  limit: LimitDecision | null;
}

/** A request whose rate-limit decision waits for its key's first grant. */
interface Held {
  /** a request that waits for a grant for its key: what its checks say once it has */
  held: Promise<Admitted | ProxyErrorCode>;
}

/** What the key's checks let through: the key (null: an open deployment) and which of its secrets. */
type Admission = Extract<AuthResult, { ok: true }>;

const CLIENT_HEADERS_TIMEOUT_MS = 30_000;
const CLIENT_REQUEST_TIMEOUT_MS = 300_000;
// Above the 60 s idle timeout of common load balancers, so they close first, not the proxy.
const CLIENT_KEEP_ALIVE_TIMEOUT_MS = 65_000;
const DEFAULT_MAX_CONNECTIONS = 10_000;
// A connection over the cap is answered once; if it sends nothing it goes after this long.
const OVER_CAP_IDLE_MS = 5_000;

export function createProxyServer(deps: ProxyServerDeps): ProxyServer {
  const { table, config, registry, status } = deps;
  const log = deps.log.child({ component: 'proxy' });
  const route = createRouter(config.baseDomain);
  const maxConnections = config.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  let openConnections = 0;
  const metrics = createProxyMetrics(registry, {
    revision: () => table.revision,
    status: () => (draining ? 'not_ready' : status()),
    connections: () => openConnections,
  });
  const accessLog = config.accessLog ? createAccessLog(deps.log) : null;
  let draining = false;
  const limiter = deps.rateLimiter ?? null;
  const meter =
    deps.usage || limiter ? createUsageMeter(deps.usage ?? null, limiter ? (keyId, tokens) => limiter.addTokens(keyId, tokens) : undefined) : null;

  const hooks: ForwardHooks = {
    responded(f, statusCode, seconds, upstream) {
      const tap = meter === null ? null : meter.responded(f.deployment, f.keyId, statusCode, upstream);
      if (tap !== null && accessLog) accessLog.tokensFrom(f.res, tap);
      const m = metrics.deployment(f.deployment.label);
      m.requests.forwarded.inc();
      m.upstreamSeconds.observe(seconds);
      if (log.isLevelEnabled('debug')) {
        log.debug({ deployment: f.deployment.label, requestId: f.requestId, status: statusCode, ms: Math.round(seconds * 1000) }, 'forwarded');
      }
      return tap;
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
  // Requests admitted with a key, ended when a change takes that key's access away (in-flight.ts).
  const inFlight = new InFlightRegistry({ table, onCut: (reason, count) => metrics.cut(reason, count) });
  const detachInFlight = inFlight.attach();
  const forwarder = createForwarder({
    timeouts: config.upstream,
    policy: createUpstreamPolicy(config.upstream),
    hooks,
    inFlight,
  });

  const stopWatchingTable = table.onRetired((d) => {
    if (table.findDeployment(d.projectSlug, d.name) === undefined) metrics.forget(d.label);
    if (!table.usesOrigin(d.origin)) forwarder.release(d.origin);
  });

  /** The checks every request to a deployment goes through, plain or upgrade, in this order.
   *  `res`: a plain request's response, whose access-log line the checks fill in. */
  function admit(req: IncomingMessage, res: ServerResponse | null): Admitted | Held | ProxyErrorCode | InternalEndpoint {
    const r = route(req.headers.host, req.url ?? '/');
    if (r.kind === 'internal') return r.endpoint;
    const entry: AccessEntry | null = accessLog === null || res === null ? null : accessLog.begin(res);
    if ((req.socket as MemoSocket)[OVER_CAP]) return 'too_many_connections';
    if (r.kind === 'none') return 'deployment_not_found';
    const deployment = deploymentOf(r, entry);
    if (typeof deployment === 'string') return deployment;
    const auth = checkKey(deployment, req, entry);
    if (typeof auth === 'string') return auth;
    // After authentication: an unauthenticated caller learns nothing about these rules.
    const problem = shapeProblem(req.headers['transfer-encoding'], r.path);
    if (problem !== null) return problem;
    const key = auth.key;
    const limit = limiter !== null && key !== null && key.rateLimit !== null ? limiter.admitOrWait(key.id, key.rateLimit) : null;
    if (!(limit instanceof Promise)) return decide(deployment, r.path, auth, entry, limit);
    // A limited key without a usable grant here waits for one (docs/architecture.md, "Rate
    // limits"). A change applied meanwhile (an unlink, a deletion, the key's expiry) counts: its
    // checks run again, as for a request arriving now, and the limit decides without waiting again.
    return {
      held: limit.then(() => {
        const d = deploymentOf(r, entry);
        if (typeof d === 'string') return d;
        const again = checkKey(d, req, entry);
        if (typeof again === 'string') return again;
        const k = again.key;
        return decide(d, r.path, again, entry, limiter !== null && k !== null && k.rateLimit !== null ? limiter.admit(k.id, k.rateLimit) : null);
      }),
    };
  }

  /** The routed deployment, when the proxy can tell (ready, not draining) and it exists. */
  function deploymentOf(r: Extract<Route, { kind: 'deployment' }>, entry: AccessEntry | null): DeploymentEntry | ProxyErrorCode {
    // Before the first snapshot the table cannot tell a missing deployment from an unknown one.
    if (draining) return 'not_ready';
    const s = status();
    if (s !== 'ready') return s;
    const deployment = table.findDeployment(r.projectSlug, r.name);
    if (deployment === undefined) return 'deployment_not_found';
    if (entry !== null) entry.deployment = deployment.label;
    return deployment;
  }

  /** The key's checks on the deployment (a refusal counted in metrics, usage and the access log). */
  function checkKey(deployment: DeploymentEntry, req: IncomingMessage, entry: AccessEntry | null): Admission | ProxyErrorCode {
    const auth = authorizeRequest(table, deployment, req.rawHeaders, Date.now(), keyMemoOf(req.socket as MemoSocket));
    if (entry !== null) entry.key = auth.key?.name ?? null;
    if (auth.ok) return auth;
    metrics.deployment(deployment.label).requests.rejected.inc();
    metrics.refused(auth.reason);
    meter?.refused(deployment, auth.key);
    if (entry !== null) entry.reason = auth.reason;
    if (log.isLevelEnabled('debug')) {
      log.debug({ deployment: deployment.label, reason: auth.reason, key: auth.key?.name ?? null, requestId: req.headers['x-request-id'] }, 'key refused');
    }
    return auth.code;
  }

  /** What the rate limit decided (null: no limit), the last check, made into the request's admission. */
  function decide(deployment: DeploymentEntry, path: string, auth: Admission, entry: AccessEntry | null, limit: LimitDecision | null): Admitted {
    const key = auth.key;
    const keyId = key === null ? null : key.id;
    const admittedHash = key === null ? null : auth.viaPrevious ? key.previousHash : key.hash;
    if (limit !== null && limit.refused !== null) {
      metrics.deployment(deployment.label).requests.rejected.inc();
      metrics.refused('rate_limited');
      meter?.rateLimited(deployment, keyId!);
      if (entry !== null) entry.reason = 'rate_limited';
    } else if (keyId !== null && deps.usage === undefined) {
      // With metering on, lastUsedAt goes out with the usage flush instead.
      table.recordUse(keyId);
    }
    return { deployment, path, keyId, admittedHash, limit };
  }

  function reject(code: ProxyErrorCode, req: IncomingMessage) {
    metrics.rejected(code);
    if (log.isLevelEnabled('debug')) log.debug({ method: req.method, code }, 'rejected');
  }

  function onRequest(req: IncomingMessage, res: ServerResponse, expectsContinue = false) {
    if (draining || (req.socket as MemoSocket)[OVER_CAP]) res.shouldKeepAlive = false;
    const admitted = admit(req, res);
    if (typeof admitted === 'object' && 'held' in admitted) void admitted.held.then((a) => answer(req, res, expectsContinue, a));
    else answer(req, res, expectsContinue, admitted);
  }

  function answer(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean, admitted: Admitted | ProxyErrorCode | InternalEndpoint) {
    if (typeof admitted === 'object' && admitted.limit?.refused) {
      // The upstream receives nothing: not even the body the client may still send.
      res.shouldKeepAlive = res.shouldKeepAlive && !expectsContinue;
      sendRateLimited(res, admitted.limit);
    } else if (typeof admitted === 'object') {
      // The client waited to send its body until the key was checked.
      if (expectsContinue) res.writeContinue();
      const extra = admitted.limit === null ? null : limitHeaders(admitted.limit);
      forwarder.web(req, res, admitted.deployment, admitted.path, admitted.keyId, admitted.admittedHash, extra);
    } else if (admitted === 'healthz' || admitted === 'readyz') {
      serveInternal(admitted, res);
    } else {
      reject(admitted, req);
      sendAnswer(res, admitted);
    }
  }

  const upgraded = new Set<Duplex>();
  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    const admitted = admit(req, null);
    if (typeof admitted === 'object' && 'held' in admitted) void admitted.held.then((a) => upgrade(req, socket, head, a));
    else upgrade(req, socket, head, admitted);
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, admitted: Admitted | ProxyErrorCode | InternalEndpoint) {
    if (typeof admitted !== 'object') {
      const code = admitted === 'healthz' || admitted === 'readyz' ? 'deployment_not_found' : admitted;
      reject(code, req);
      sendAnswerOnSocket(socket, code);
      return;
    }
    if (admitted.limit?.refused) {
      sendRateLimitedOnSocket(socket, admitted.limit);
      return;
    }
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    meter?.upgraded(admitted.deployment, admitted.keyId);
    forwarder.ws(req, socket, head, admitted.deployment, admitted.path, admitted.keyId, admitted.admittedHash);
  }

  function readiness(): string {
    return draining ? 'draining' : status();
  }

  function serveInternal(endpoint: InternalEndpoint, res: ServerResponse) {
    if (endpoint === 'healthz') return sendJson(res, 200, { status: 'ok' });
    const state = readiness();
    return sendJson(res, state === 'ready' ? 200 : 503, { status: state, revision: table.revision });
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

  // The cap counts every open connection, whoever opened it: behind a load balancer all clients
  // share its address, so a per-address cap would refuse everyone at once. A connection over the
  // cap is still parsed, so its client gets a 503 it can retry on rather than a reset; past twice
  // the cap, Node drops new connections unanswered.
  server.maxConnections = maxConnections * 2;
  server.on('connection', (socket: MemoSocket) => {
    openConnections++;
    socket.once('close', onConnectionClose);
    if (openConnections > maxConnections) {
      socket[OVER_CAP] = true;
      metrics.connectionRefused();
      // The server's timeout handler destroys a socket that stays silent this long.
      socket.setTimeout(OVER_CAP_IDLE_MS);
    }
  });
  server.on('drop', () => metrics.connectionRefused());
  function onConnectionClose() {
    openConnections--;
  }

  const closed = new Promise<void>((resolve) => server.once('close', resolve));
  let stopping: Promise<void> | undefined;

  return {
    server,
    metrics,
    async start() {
      const port = await listen(server, config.port, config.host);
      log.info({ host: config.host, port }, 'proxy listening');
      return { port };
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
      detachInFlight();
      forwarder.close();
      return;
    }
    log.info({ drainMs }, 'proxy draining');
    // Upgraded sockets (WebSockets) go when the drain time is up, like the requests still open then.
    await drainConnections(server, closed, drainMs, () => {
      for (const socket of upgraded) socket.destroy();
    });
    detachInFlight();
    forwarder.close();
    log.info('proxy stopped');
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
