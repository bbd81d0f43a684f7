// The control plane's server: GraphQL over HTTP and SSE (yoga.ts) and over graphql-ws
// (graphql-ws.ts) on /graphql, beside the routes the caller adds (health, metrics, the dashboard),
// on one node:http server with its limits (http.ts).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { PrismaClient } from '../db/database.ts';
import type { Viewer } from '../domain/access.ts';
import type { Authenticate, TokenWatch } from '../domain/access-tokens.ts';
import type { DomainDeps } from '../domain/deps.ts';
import { createConfirmations } from '../feed/propagation.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { serveGraphQLWs, type SubscriptionTuning } from './graphql-ws.ts';
import { DEFAULT_DRAIN_MS, drainConnections } from '../runtime/drain.ts';
import { listen } from '../runtime/listen.ts';
import { createLimitedServer, HTTP_LIMITS, type HttpLimits } from './http.ts';
import type { ProjectEventsFanOut } from './project-events.ts';
import type { UsageUpdatesFanOut } from './usage-updates.ts';
import type { CacheOutcome } from './response-cache.ts';
import { createGraphQLHandler } from './yoga.ts';
import type { BudgetLimits } from '../graphql/operation-limits.ts';

/** Open connections (HTTP and WebSocket) a control plane accepts at once unless configured. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

export interface GraphQLServerOptions {
  host: string;
  port: number;
  introspection: boolean;
  /** how endpointUrl is written: scheme, base domain and public port of the proxy */
  endpoint: { scheme: string; baseDomain: string; port: number };
  prisma: PrismaClient;
  domain: DomainDeps;
  events: ProjectEventsFanOut;
  usage: UsageUpdatesFanOut;
  /** where ApiKey.rateLimitUsage is read */
  rateLimits: GraphQLContext['rateLimits'];
  authenticate: Authenticate;
  log: Logger;
  http?: Partial<HttpLimits>;
  /** browser origins allowed by CORS; none or empty: CORS is off (no Access-Control-* headers) */
  corsOrigins?: string[];
  /** open connections, HTTP and WebSocket together, the server accepts at once; beyond, new ones are dropped */
  maxConnections?: number;
  /** a request's link-list items and deadline; defaults in graphql/operation-limits.ts */
  operationLimits?: Partial<BudgetLimits>;
  /** told, for each query that may be answered from the kept answers, whether it was */
  onResponseCache?: (outcome: CacheOutcome) => void;
  /** routes served beside /graphql (health, metrics, the dashboard); true when answered */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** ends graphql-ws sessions whose token is deleted or expires */
  tokens?: TokenWatch;
  subscriptions?: SubscriptionTuning;
}

/** What is open on the control plane: tests check it returns to where it started after churn. */
export interface GraphQLServerStats {
  /** WebSocket connections */
  wsClients: number;
  /** projectEvents and usageUpdates subscriptions (graphql-ws and SSE) */
  subscribers: number;
  /** access-token watchers (graphql-ws sessions and subscriptions opened with a stored token) */
  tokenWatchers: number;
}

export interface GraphQLServer {
  server: Server;
  start(): Promise<{ port: number; url: string }>;
  /** subscriptions end, no new connections; requests in flight get drainMs to be answered */
  stop(drainMs?: number): Promise<void>;
  stats(): GraphQLServerStats;
}

/** `https://model-<deployment>.<project>.<baseDomain>[:port]`, the port left out where it is the scheme's own. */
export function endpointUrlOf(endpoint: GraphQLServerOptions['endpoint']): GraphQLContext['endpointUrl'] {
  const { scheme, baseDomain, port } = endpoint;
  const portSuffix = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443) ? '' : `:${port}`;
  return (project, deployment) => `${scheme}://model-${deployment}.${project}.${baseDomain}${portSuffix}`;
}

export function createGraphQLServer(options: GraphQLServerOptions): GraphQLServer {
  const { prisma, domain, events, usage, rateLimits, log } = options;
  const endpointUrl = endpointUrlOf(options.endpoint);
  const contextFor = (viewer: Viewer): Omit<GraphQLContext, 'budget'> => {
    return { viewer, prisma, domain, confirmations: createConfirmations(), events, usage, rateLimits, endpointUrl };
  };
  const yoga = createGraphQLHandler({
    introspection: options.introspection,
    authenticate: options.authenticate,
    contextFor,
    log,
    corsOrigins: options.corsOrigins,
    operationLimits: options.operationLimits,
    onResponseCache: options.onResponseCache,
  });
  const server = createLimitedServer({ ...HTTP_LIMITS, ...options.http }, (req, res) => {
    if (options.extraRoutes?.(req, res)) return;
    void yoga(req, res);
  });
  // One cap for everyone, not per address: clients share 127.0.0.1 behind load balancers.
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const ws = serveGraphQLWs({ server, yoga, authenticate: options.authenticate, tokens: options.tokens, log, tuning: options.subscriptions });

  return {
    server,
    async start() {
      const port = await listen(server, options.port, options.host);
      return { port, url: `http://${options.host}:${port}/graphql` };
    },
    async stop(drainMs = DEFAULT_DRAIN_MS) {
      // graphql-ws clients get 1001 (and resubscribe elsewhere with afterRevision); every
      // subscription ends (SSE streams with UNAVAILABLE); no new connections are taken, and the
      // requests in flight (a mutation waiting for its confirmation) are answered within drainMs.
      const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
      const socketsClosed = ws.closeAll();
      events.close();
      usage.close();
      const drained = drainConnections(server, closed, drainMs);
      await socketsClosed;
      await ws.dispose();
      await drained;
    },
    stats() {
      return { wsClients: ws.clients.size, subscribers: events.subscriberCount + usage.subscriberCount, tokenWatchers: options.tokens?.size ?? 0 };
    },
  };
}
