// Wires the control plane of one process (`keygate start` and `keygate control-plane`): domain
// services over Prisma, the feed consumer that feeds subscriptions, the GraphQL server with its
// health, metrics and dashboard routes, and the background jobs.
import { adminTokenFile as adminTokenPath } from '../config/admin-token-file.ts';
import type { Config } from '../config/config.ts';
import type { PrismaClient } from '../db/database.ts';
import { sqlOfPrisma } from '../db/sql.ts';
import { headRevision } from '../db/statements/index.ts';
import { createAuthenticator, createTokenWatch, ensureAdminTokenFile } from '../domain/access-tokens.ts';
import { createUpstreamPolicy } from '../domain/upstream-policy.ts';
import { changeLogSource } from '../feed/change-log.ts';
import { FeedConsumer } from '../feed/consumer.ts';
import { createChanges } from '../feed/recorder.ts';
import type { Feed } from '../feed/feed.ts';
import { createDashboardRoutes } from '../graphql-server/dashboard.ts';
import type { SubscriptionTuning } from '../graphql-server/graphql-ws.ts';
import type { HttpLimits } from '../graphql-server/http.ts';
import { createControlPlaneMetrics } from '../graphql-server/metrics.ts';
import { consumerEventSource, createProjectEvents } from '../graphql-server/project-events.ts';
import { createGraphQLServer, type GraphQLServerStats } from '../graphql-server/server.ts';
import { createUsageUpdates } from '../graphql-server/usage-updates.ts';
import { startBackgroundJobs } from './background.ts';
import { openRedisUsageSource } from '../ratelimit/rate-limits.ts';
import type { RateLimitUsageSource } from '../ratelimit/usage-reader.ts';
import type { Logger } from './logger.ts';
import { createStops } from './stops.ts';

export interface ControlPlaneTuning {
  /** the built dashboard to serve at / (default dist/dashboard) */
  dashboardDir?: string;
  /** the control plane's HTTP limits */
  http?: Partial<HttpLimits>;
  subscriptions?: SubscriptionTuning & {
    /** events held per subscriber before it counts as too slow (1013); default 1000 */
    maxQueue?: number;
    /** how often deleted or expired access tokens end their sessions; default 1000 ms */
    tokenCheckMs?: number;
  };
}

export interface RunningControlPlane {
  url: string;
  port: number;
  stats(): GraphQLServerStats & { feedListeners: number };
  /** where `keygate start` wrote the generated admin token, if it did */
  adminTokenFile?: string;
  stop(): Promise<void>;
}

export async function startControlPlane(deps: {
  config: Config;
  prisma: PrismaClient;
  feed: Feed;
  log: Logger;
  tuning?: ControlPlaneTuning;
  /** `keygate start`: generate an admin token file when none is configured */
  generateAdminToken: boolean;
  /** where rateLimitUsage is read when the counts are not in Redis (`keygate start` alone) */
  rateLimitUsage?: RateLimitUsageSource;
}): Promise<RunningControlPlane> {
  const { config, prisma, feed, log } = deps;
  const tuned = deps.tuning?.subscriptions ?? {};
  const stops = createStops(log);
  return stops.guard(async () => {
    // Subscriptions consume the same gap-checked feed as the proxies, from the head onwards.
    const sql = sqlOfPrisma(prisma);
    const consumer = new FeedConsumer({
      feed,
      source: changeLogSource(sql),
      initialize: () => headRevision(sql),
      apply: () => {},
      pollIntervalMs: config.pollIntervalMs,
      maxStalenessMs: config.maxStalenessMs,
      log: log.child({ component: 'control-plane-feed' }),
    });
    await consumer.start();
    stops.add(() => consumer.stop());
    const source = consumerEventSource(consumer);
    const tokens = createTokenWatch(prisma, {
      intervalMs: tuned.tokenCheckMs ?? 1000,
      onError: (error) => log.debug({ err: (error as Error)?.message }, 'access-token check failed; retrying'),
    });
    stops.add(async () => tokens.stop());
    const events = createProjectEvents({ prisma, source, tokens, maxQueue: tuned.maxQueue });
    // Usage comes straight from the feed: the proxies' flushes, live only (no log, no revision).
    const usage = createUsageUpdates({ source: feed, tokens, maxQueue: tuned.maxQueue });
    const metrics = createControlPlaneMetrics({
      appliedRevision: () => consumer.applied,
      ready: () => consumer.ready,
      subscribers: () => events.subscriberCount + usage.subscriberCount,
      liveProxies: async () => (await feed.liveProxies()).size,
    });
    const expiryWarningMs = config.expiryWarningHours * 3_600_000;
    const changes = createChanges({ prisma, feed, propagationTimeoutMs: config.propagationTimeoutMs, log, onPropagation: metrics.recordPropagation });
    const dashboard = createDashboardRoutes(deps.tuning?.dashboardDir);
    const rateLimits =
      feed.kind === 'redis' && config.redisUrl
        ? openRedisUsageSource({ url: config.redisUrl, prefix: config.redisPrefix }, config.rateLimitWindowMs, log)
        : deps.rateLimitUsage;
    if (rateLimits) stops.add(() => rateLimits.close());
    const server = createGraphQLServer({
      host: config.host,
      port: config.port,
      introspection: config.introspection,
      endpoint: { scheme: config.publicScheme, baseDomain: config.baseDomain, port: config.publicPort || config.proxyPort },
      prisma,
      domain: { prisma, changes, upstreamPolicy: createUpstreamPolicy(config.upstream), expiryWarningMs },
      events,
      usage,
      rateLimits: rateLimits ?? { read: () => Promise.resolve({ requests: 0, tokens: 0, resetsAtMs: Date.now() }) },
      authenticate: createAuthenticator(prisma, { adminToken: config.adminToken }),
      log,
      extraRoutes: (req, res) => metrics.routes(req, res) || dashboard(req, res),
      http: deps.tuning?.http,
      operationLimits: config.operationLimits,
      onResponseCache: metrics.recordResponseCache,
      corsOrigins: config.corsOrigins,
      maxConnections: config.controlPlaneMaxConnections,
      tokens,
      subscriptions: { ...tuned, limits: config.wsLimits },
    });
    // The jobs start first so that they stop last: a stop refuses new connections at once, and
    // only then waits for a sweeper or pruner run in progress.
    stops.add(startBackgroundJobs({ prisma, changes, log, retentionHours: config.changelogRetentionHours, expiryWarningMs }));
    const { url, port } = await server.start();
    stops.add(() => server.stop(config.drainMs));
    const adminTokenFile = deps.generateAdminToken && !config.adminToken ? await ensureAdminTokenFile(prisma, adminTokenPath(config)) : undefined;
    return { url, port, adminTokenFile, stats: () => ({ ...server.stats(), feedListeners: source.listeners() }), stop: stops.stopAll };
  });
}
