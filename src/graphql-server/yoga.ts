// graphql-yoga serving the Pothos schema over HTTP (and SSE) on /graphql. graphql-ws reaches the
// same envelop pipeline through `getEnveloped` (graphql-ws.ts), so both share plugins and context.
// Client errors are 200 with `errors`; only a missing or bad token changes the HTTP status.
import { randomUUID } from 'node:crypto';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Viewer } from '../domain/access.ts';
import type { Authenticate } from '../domain/access-tokens.ts';
import { useConfirmBeforeAnswer } from '../graphql/confirm-before-answer.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { toClientError } from '../graphql/errors.ts';
import { schema } from '../graphql/schema.ts';
import { type BudgetLimits, budgetPerRequest, DEFAULT_BUDGET_LIMITS, useOperationLimits } from '../graphql/operation-limits.ts';
import { authenticateFirst } from './authenticate-first.ts';
import { useCompiledQueries } from './compiled-queries.ts';
import { type CacheOutcome, useResponseCache } from './response-cache.ts';
import { useSharedSubscriptionResults } from './shared-subscription-results.ts';

/** What yoga adds to the server context: graphql-ws hands its connection_init payload through. */
export type ServerContext = { connectionParams?: Record<string, unknown> };
export type Yoga = YogaServerInstance<ServerContext, GraphQLContext>;

const unauthenticated = () =>
  new GraphQLError('a valid access token is required: send Authorization: Bearer <token>', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  });

const introspectionOff: Plugin = {
  onValidate: ({ addValidationRule }) => {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};

/**
 * CORS is off unless origins are configured: the dashboard is served from the same origin, and
 * yoga's default echoed any Origin. Bearer tokens travel in a header, so no credentials mode.
 */
function corsPolicy(origins: string[] | undefined) {
  if (!origins?.length) return false;
  return { origin: origins, credentials: false, methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type'] };
}

export function createGraphQLHandler(options: {
  introspection: boolean;
  authenticate: Authenticate;
  /** the resolvers' context for an authenticated viewer */
  contextFor(viewer: Viewer): Omit<GraphQLContext, 'budget'>;
  log: Logger;
  /** browser origins allowed by CORS; none or empty: CORS is off (no Access-Control-* headers) */
  corsOrigins?: string[];
  /** a request's link-list items and deadline; defaults in graphql/operation-limits.ts */
  operationLimits?: Partial<BudgetLimits>;
  /** told, for each query that may be answered from the kept answers, whether it was */
  onResponseCache?: (outcome: CacheOutcome) => void;
}): Yoga {
  const { authenticate, log } = options;
  const limits = { ...DEFAULT_BUDGET_LIMITS, ...options.operationLimits };
  const budgetOf = budgetPerRequest(limits);
  const authentication = authenticateFirst(authenticate, unauthenticated);
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: options.introspection ? { title: 'keygate', subscriptionsProtocol: 'WS' } : false,
    // GraphiQL's page and assets from the package, not a CDN: it works offline and behind firewalls.
    renderGraphiQL,
    logging: false,
    cors: corsPolicy(options.corsOrigins),
    batching: { limit: 10 },
    maskedErrors: { maskError: (error) => toClientError(error, log, randomUUID()) },
    context: async ({ request, connectionParams }) => {
      const header = connectionParams?.authorization;
      const viewer = await (connectionParams ? authenticate(typeof header === 'string' ? header : null) : authentication.viewerOf(request)).catch(
        (error: unknown) => {
          throw toClientError(error, log, randomUUID());
        },
      );
      if (!viewer) throw unauthenticated();
      return { ...options.contextFor(viewer), budget: budgetOf(request) };
    },
    plugins: [
      authentication.plugin,
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
      useSharedSubscriptionResults(limits),
      useConfirmBeforeAnswer(),
      useOperationLimits(),
      useResponseCache(undefined, options.onResponseCache),
      useCompiledQueries(),
    ],
  });
}
