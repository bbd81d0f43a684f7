// graphql-ws sessions on /graphql, executed through yoga's envelop pipeline (yoga.ts).
//
// Close codes (docs/api.md, "Watching changes"): 4403 bad or missing token, 4408 no
// connection_init within `connectionInitWaitMs`, 4429 a second connection_init, 4400 a malformed
// message, 4401 subscribe before the ack (graphql-ws itself enforces the last four), 1013 when a
// subscription's bounded queue overflows or authentication cannot reach the database. Keep-alive:
// a WebSocket ping every `keepAliveMs`; a socket that does not answer within the next interval is
// terminated. A session whose access token is deleted or expires is closed with 4403 within the
// token watch's interval.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { type ExecutionArgs, GraphQLError, type execute as graphqlExecute, type subscribe as graphqlSubscribe } from 'graphql';
import type { Context, SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Authenticate, TokenWatch } from '../domain/access-tokens.ts';
import type { SlowConsumerHook } from '../graphql/context.ts';
import { toClientError } from '../graphql/errors.ts';
import { createSessionCounter, refuseExtraSubscription, refuseTokenSubscription, WS_LIMITS, type WsLimits } from './ws-limits.ts';
import type { Yoga } from './yoga.ts';

/** Timings of graphql-ws sessions; tests shorten them. */
export interface SubscriptionTuning {
  /** how long a socket may wait before connection_init (else 4408); default 5000 */
  connectionInitWaitMs?: number;
  /** WebSocket ping interval; a socket silent for a whole interval after a ping is terminated; default 12000 */
  keepAliveMs?: number;
  /** subscriptions per connection and connections per token (ws-limits.ts) */
  limits?: Partial<WsLimits>;
}

export const WS_CLOSE = {
  tokenEnded: { code: 4403, reason: 'Forbidden: the access token was deleted or has expired' },
  unavailable: { code: 1013, reason: 'Try again later: the database cannot be reached right now' },
  tooManyConnections: { code: 1013, reason: 'Try again later: this access token holds too many connections' },
  slowConsumer: { code: 1013, reason: 'Try again later: the subscriber reads too slowly, resume with afterRevision' },
  goingAway: { code: 1001, reason: 'Going away: the control plane is shutting down' },
} as const;

/** After closing a socket, how long its peer has to answer the close before it is cut. */
const CLOSE_GRACE_MS = 2_000;

/** Closes a socket, and cuts it if its peer does not complete the close in time (a stuck reader). */
export function closeSocket(socket: WebSocket, close: { code: number; reason: string }): void {
  if (socket.readyState === socket.CLOSED) return;
  if (socket.readyState !== socket.CLOSING) socket.close(close.code, close.reason);
  const cut = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}

export interface GraphQLWs {
  /** open WebSocket connections */
  readonly clients: Set<WebSocket>;
  /** Closes every socket with 1001 and resolves once all of them are closed. */
  closeAll(): Promise<void>;
  dispose(): Promise<void>;
}

type Extra = { socket: WebSocket; request: IncomingMessage };
type RootValue = { execute: typeof graphqlExecute; subscribe: typeof graphqlSubscribe };

export function serveGraphQLWs(options: {
  server: Server;
  yoga: Yoga;
  authenticate: Authenticate;
  /** ends sessions whose token is deleted or expires */
  tokens?: TokenWatch;
  log: Logger;
  tuning?: SubscriptionTuning;
}): GraphQLWs {
  const { yoga, authenticate, log } = options;
  const wss = new WebSocketServer({ server: options.server, path: '/graphql', maxPayload: 256 * 1024 });
  const sessions = new WeakMap<WebSocket, { unwatch: (() => void) | null; token: string; operations: Set<string> }>();
  const limits = { ...WS_LIMITS, ...options.tuning?.limits };
  const sessionsPerToken = createSessionCounter(limits.maxConnectionsPerToken);
  const operationsPerToken = createSessionCounter(limits.maxSubscriptionsPerToken);

  /** connection_init: authenticate once, and watch the token for the session's lifetime. */
  const onConnect = async (socket: WebSocket, header: unknown): Promise<boolean> => {
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
    const token = viewer.tokenId ?? 'KEYGATE_ADMIN_TOKEN';
    if (!sessionsPerToken.admit(token)) {
      closeSocket(socket, WS_CLOSE.tooManyConnections);
      return false;
    }
    const unwatch = viewer.tokenId && options.tokens ? options.tokens.watch(viewer.tokenId, () => closeSocket(socket, WS_CLOSE.tokenEnded)) : null;
    sessions.set(socket, { unwatch, token, operations: new Set() });
    return true;
  };

  const disposable = useServer<Record<string, unknown>, Extra>(
    {
      connectionInitWaitTimeout: options.tuning?.connectionInitWaitMs ?? 5_000,
      onConnect: (ctx) => onConnect(ctx.extra.socket, ctx.connectionParams?.authorization),
      onClose: (ctx) => {
        const session = sessions.get(ctx.extra.socket);
        if (session) sessionsPerToken.release(session.token);
        for (const _ of session?.operations ?? []) operationsPerToken.release(session!.token);
        session?.operations.clear();
        session?.unwatch?.();
        sessions.delete(ctx.extra.socket);
      },
      onSubscribe: async (ctx, id, payload) => {
        const refused = refuseExtraSubscription(ctx.subscriptions, limits.maxSubscriptions);
        if (refused) return refused;
        const session = sessions.get(ctx.extra.socket);
        if (!session) return prepareOperation(yoga, log, ctx, payload);
        if (!operationsPerToken.admit(session.token)) return refuseTokenSubscription(limits.maxSubscriptionsPerToken);
        const prepared = await prepareOperation(yoga, log, ctx, payload);
        // Counted until onComplete (graphql-ws calls it after an abrupt close too), or released now if it never starts.
        if (Array.isArray(prepared) || sessions.get(ctx.extra.socket) !== session) operationsPerToken.release(session.token);
        else session.operations.add(id);
        return prepared;
      },
      onComplete: (ctx, id) => {
        const session = sessions.get(ctx.extra.socket);
        if (session?.operations.delete(id)) operationsPerToken.release(session.token);
      },
      execute: (args: ExecutionArgs) => (args.rootValue as RootValue).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as RootValue).subscribe(args),
    },
    wss,
    options.tuning?.keepAliveMs ?? 12_000,
  );

  return {
    clients: wss.clients,
    async closeAll() {
      const sockets = [...wss.clients];
      for (const socket of sockets) closeSocket(socket, WS_CLOSE.goingAway);
      await Promise.all(sockets.map((socket) => (socket.readyState === socket.CLOSED ? null : new Promise((resolve) => socket.once('close', resolve)))));
    },
    dispose: async () => {
      await disposable.dispose();
    },
  };
}

/**
 * subscribe/execute messages: parsed, validated and given their context through yoga's envelop
 * pipeline, with the hook that ends this socket (1013) when a subscriber is too slow.
 */
async function prepareOperation(
  yoga: Yoga,
  log: Logger,
  ctx: Context<Record<string, unknown>, Extra>,
  payload: SubscribePayload,
): Promise<ExecutionArgs | readonly GraphQLError[]> {
  const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
    ...ctx,
    request: undefined,
    params: payload,
    connectionParams: ctx.connectionParams,
  });
  const socket = ctx.extra.socket;
  let document;
  try {
    document = parse(payload.query);
  } catch (error) {
    return [error as GraphQLError];
  }
  const errors = validate(schema, document);
  if (errors.length > 0) return errors;
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
  const rootValue: RootValue = { execute, subscribe };
  return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue: Object.assign(yogaContext, hook), rootValue };
}
