// The control plane: graphql-yoga serving the Pothos schema over HTTP (and SSE) on /graphql, and
// graphql-ws on the same path through yoga's envelop pipeline, so both share plugins and context.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { PrismaClient } from '../db/database.ts';
import type { Viewer } from '../domain/access.ts';
import type { Authenticate } from '../domain/access-tokens.ts';
import type { DomainDeps } from '../domain/deps.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { toClientError } from '../graphql/errors.ts';
import type { ProjectEvents } from '../graphql/project-events.ts';
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
  authenticate: Authenticate;
  log: Logger;
  /** extra routes served beside /graphql (health, metrics) */
  extraRoutes?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => boolean;
}

export interface ControlPlane {
  server: Server;
  start(): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
}

const unauthenticated = () =>
  new GraphQLError('a valid access token is required: send Authorization: Bearer <token>', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });

/** Client errors are 200 with `errors`; only a missing or bad token changes the HTTP status. */
export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const { prisma, domain, events, authenticate, log } = options;
  const { scheme, baseDomain, port: publicPort } = options.endpoint;
  const portSuffix = (scheme === 'http' && publicPort === 80) || (scheme === 'https' && publicPort === 443) ? '' : `:${publicPort}`;
  const endpointUrl = (project: string, deployment: string) =>
    `${scheme}://model-${deployment}.${project}.${baseDomain}${portSuffix}`;

  const contextFor = (viewer: Viewer): GraphQLContext => ({ viewer, prisma, domain, events, endpointUrl });

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
        costLimit: { maxCost: 5000 },
        maxTokens: { n: 2000 },
        maxDirectives: { n: 20 },
        blockFieldSuggestion: { enabled: !options.introspection },
      }),
      ...(options.introspection ? [] : [introspectionOff]),
    ],
  });

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 }, (req, res) => {
    if (options.extraRoutes?.(req, res)) return;
    if (req.url === '/' || req.url?.startsWith('/?')) {
      res.writeHead(302, { location: '/graphql' }).end();
      return;
    }
    void yoga(req, res);
  });
  server.keepAliveTimeout = 5_000;

  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 256 * 1024 });
  const wsServer = useServer<Record<string, unknown>, { viewer?: Viewer }>(
    {
      connectionInitWaitTimeout: 5_000,
      onConnect: async (ctx) => {
        const header = ctx.connectionParams?.authorization;
        const viewer = await authenticate(typeof header === 'string' ? header : null).catch(() => null);
        if (!viewer) return false; // graphql-ws closes with 4403 Forbidden
        return true;
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
        const contextValue = await contextFactory();
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
      await wsServer.dispose();
      wss.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
