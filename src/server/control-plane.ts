// The control plane: graphql-yoga serving the Pothos schema over HTTP (and SSE) on /graphql, and
// graphql-ws on the same path through yoga's envelop pipeline, so both share plugins and context.
//
// graphql-ws sessions (API.md, "graphql-ws close codes"): 4403 bad or missing token, 4408 no
// connection_init within `connectionInitWaitMs`, 4429 a second connection_init, 4400 a malformed
// message, 4401 subscribe before the ack (graphql-ws itself enforces the last four), 1013 when a
// subscription's bounded queue overflows. Keep-alive: a WebSocket ping every `keepAliveMs`; a
// socket that does not answer within the next interval is terminated. A session whose access
// token is deleted or expires is closed with 4403 within the token watch's interval.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { PrismaClient } from '../db/database.ts';
import type { Viewer } from '../domain/access.ts';
import type { Authenticate, TokenWatch } from '../domain/access-tokens.ts';
import type { DomainDeps } from '../domain/deps.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { confirmingDomain, useConfirmBeforeAnswer } from '../graphql/confirm-before-answer.ts';
import { toClientError } from '../graphql/errors.ts';
import type { ProjectEvents, SlowConsumerHook } from '../graphql/project-events.ts';
import type { UsageUpdates } from '../graphql/usage-updates.ts';
import { useSharedSubscriptionResults } from '../graphql/shared-subscription-results.ts';
import { schema } from '../graphql/schema.ts';

export interface ControlPlaneOptions {
  host: string;
  port: number;
  introspection: boolean;
  /** how endpointUrl is written: scheme, base domain and public port of the proxy */
  endpoint: { scheme: string; baseDomain: string; port: number };
  prisma: PrismaClient;
  domain: DomainDeps;
  events: ProjectEvents;
  usage: UsageUpdates;
  authenticate: Authenticate;
  log: Logger;
  http?: Partial<HttpLimits>;
  /** routes served beside /graphql (health, metrics, the dashboard); true when answered */
  extraRoutes?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean;
  /** ends graphql-ws sessions whose token is deleted or expires */
  tokens?: TokenWatch;
  subscriptions?: SubscriptionTuning;
}

/** Timings of graphql-ws sessions; tests shorten them. */
export interface SubscriptionTuning {
  /** how long a socket may wait before connection_init (else 4408); default 5000 */
  connectionInitWaitMs?: number;
  /** WebSocket ping interval; a socket silent for a whole interval after a ping is terminated; default 12000 */
  keepAliveMs?: number;
}

/** What is open on the control plane: tests check it returns to where it started after churn. */
export interface ControlPlaneStats {
  /** WebSocket connections */
  wsClients: number;
  /** projectEvents and usageUpdates subscriptions (graphql-ws and SSE) */
  subscribers: number;
  /** access-token watchers (graphql-ws sessions and subscriptions opened with a stored token) */
  tokenWatchers: number;
}

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

/** Refuses a body that is too large before anything reads it. */
function refuseBody(req: import('node:http').IncomingMessage, maxBytes: number): { status: number; message: string } | null {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return null;
  const declared = req.headers['content-length'];
  if (declared === undefined) {
    return req.headers['transfer-encoding'] ? { status: 411, message: 'send the request body with a Content-Length' } : null;
  }
  return Number(declared) > maxBytes ? { status: 413, message: `the request body is larger than ${maxBytes} bytes` } : null;
}

export interface ControlPlane {
  server: Server;
  start(): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
  stats(): ControlPlaneStats;
}

export const WS_CLOSE = {
  tokenEnded: { code: 4403, reason: 'Forbidden: the access token was deleted or has expired' },
  unavailable: { code: 1013, reason: 'Try again later: the database cannot be reached right now' },
  slowConsumer: { code: 1013, reason: 'Try again later: the subscriber reads too slowly, resume with afterRevision' },
  goingAway: { code: 1001, reason: 'Going away: the control plane is shutting down' },
} as const;

/** After closing a socket, how long its peer has to answer the close before it is cut. */
const CLOSE_GRACE_MS = 2_000;

const unauthenticated = () =>
  new GraphQLError('a valid access token is required: send Authorization: Bearer <token>', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });

/** Client errors are 200 with `errors`; only a missing or bad token changes the HTTP status. */
export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const { prisma, domain, events, usage, authenticate, log } = options;
  const { scheme, baseDomain, port: publicPort } = options.endpoint;
  const portSuffix = (scheme === 'http' && publicPort === 80) || (scheme === 'https' && publicPort === 443) ? '' : `:${publicPort}`;
  const endpointUrl = (project: string, deployment: string) =>
    `${scheme}://model-${deployment}.${project}.${baseDomain}${portSuffix}`;

  const contextFor = (viewer: Viewer): GraphQLContext => {
    const confirming = confirmingDomain(domain);
    return { viewer, prisma, domain: confirming.domain, confirmed: confirming.confirmed, events, usage, endpointUrl };
  };

  const introspectionOff: Plugin = {
    onValidate: ({ addValidationRule }) => {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };

  const yoga = createYoga<{ connectionParams?: Record<string, unknown> }, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: options.introspection ? { title: 'keygate', subscriptionsProtocol: 'WS' } : false,
    logging: false,
    batching: { limit: 10 },
    maskedErrors: { maskError: (error) => toClientError(error, log, randomUUID()) },
    context: async ({ request, connectionParams }) => {
      const header = connectionParams ? connectionParams.authorization : request.headers.get('authorization');
      const viewer = await authenticate(typeof header === 'string' ? header : null).catch((error: unknown) => {
        throw toClientError(error, log, randomUUID());
      });
      if (!viewer) throw unauthenticated();
      return contextFor(viewer);
    },
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: 10 },
        maxAliases: { n: 15 },
        // Off: it counts a literal `first` and not a variable one, so the same query passed or
        // failed by how it was written. Query cost is the schema's (src/graphql/complexity.ts).
        costLimit: { enabled: false },
        maxTokens: { n: 2000 },
        maxDirectives: { n: 20 },
        blockFieldSuggestion: { enabled: !options.introspection },
      }),
      ...(options.introspection ? [] : [introspectionOff]),
      useSharedSubscriptionResults(),
      useConfirmBeforeAnswer(),
    ],
  });

  const limits = { ...HTTP_LIMITS, ...options.http };
  const server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    handleRequest,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;

  function handleRequest(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
    const refusal = refuseBody(req, limits.maxBodyBytes);
    if (refusal) {
      res.writeHead(refusal.status, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: 'BAD_REQUEST' } }] }));
      req.resume();
      return;
    }
    if (options.extraRoutes?.(req, res)) return;
    void yoga(req, res);
  }

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 256 * 1024 });
  const sessions = new WeakMap<WebSocket, { unwatch: (() => void) | null }>();

  /** Closes a socket, and cuts it if its peer does not complete the close in time (a stuck reader). */
  const closeSocket = (socket: WebSocket, close: { code: number; reason: string }) => {
    if (socket.readyState === socket.CLOSED) return;
    if (socket.readyState !== socket.CLOSING) socket.close(close.code, close.reason);
    const cut = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  };

  type Extra = { socket: WebSocket; request: import('node:http').IncomingMessage };
  const wsServer = useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: options.subscriptions?.connectionInitWaitMs ?? 5_000,
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        const { socket } = ctx.extra;
        let viewer;
        try {
          viewer = await authenticate(typeof header === 'string' ? header : null);
        } catch (error) {
          // Not the client's fault: a retry may work, unlike after 4403.
          log.warn({ err: (error as Error)?.message }, 'graphql-ws connection_init: authentication failed');
          closeSocket(socket, WS_CLOSE.unavailable);
          return false;
        }
        if (!viewer) return false; // graphql-ws closes with 4403 Forbidden
        if (socket.readyState !== socket.OPEN) return false; // gone while authenticating
        const unwatch = viewer.tokenId && options.tokens ? options.tokens.watch(viewer.tokenId, () => closeSocket(socket, WS_CLOSE.tokenEnded)) : null;
        sessions.set(socket, { unwatch });
        return true;
      },
      onClose: (ctx) => {
        sessions.get(ctx.extra.socket)?.unwatch?.();
        sessions.delete(ctx.extra.socket);
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { schema: s, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          request: undefined,
          params: payload,
          connectionParams: ctx.connectionParams,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(s, document);
        if (errors.length > 0) return errors;
        const socket = ctx.extra.socket;
        const hook: SlowConsumerHook = { onSlowConsumer: () => closeSocket(socket, WS_CLOSE.slowConsumer) };
        let yogaContext;
        try {
          yogaContext = await contextFactory();
        } catch (error) {
          // The token was deleted since connection_init: end the session as the token watch would.
          const code = error instanceof GraphQLError ? error.extensions?.code : undefined;
          if (code === 'UNAUTHENTICATED') closeSocket(socket, WS_CLOSE.tokenEnded);
          return [error instanceof GraphQLError ? error : toClientError(error, log, randomUUID())];
        }
        const contextValue = Object.assign(yogaContext, hook);
        return {
          schema: s,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
      execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
    },
    wss,
    options.subscriptions?.keepAliveMs ?? 12_000,
  );

  return {
    server,
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const { port } = server.address() as AddressInfo;
      return { port, url: `http://${options.host}:${port}/graphql` };
    },
    async stop() {
      // graphql-ws clients get 1001 (and resubscribe elsewhere with afterRevision); then every
      // subscription ends (SSE streams with UNAVAILABLE); then every connection is closed.
      const sockets = [...wss.clients];
      for (const socket of sockets) closeSocket(socket, WS_CLOSE.goingAway);
      events.close();
      usage.close();
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.all(
        sockets.map((socket) => (socket.readyState === socket.CLOSED ? null : new Promise((resolve) => socket.once('close', resolve)))),
      );
      await wsServer.dispose();
      server.closeAllConnections();
      await httpClosed;
    },
    stats() {
      return { wsClients: wss.clients.size, subscribers: events.subscriberCount + usage.subscriberCount, tokenWatchers: options.tokens?.size ?? 0 };
    },
  };
}
