// The control-plane role of a process: domain services over Prisma, the feed consumer that feeds
// subscriptions, the GraphQL server, metrics and the background jobs.
import type { Config } from '../config/config.ts';
import type { PrismaClient } from '../db/database.ts';
import { sqlOfPrisma } from '../db/queries.ts';
import { createAuthenticator, createTokenWatch, ensureAdminTokenFile } from '../domain/access-tokens.ts';
import { headRevision } from '../domain/change-log.ts';
import { createChanges } from '../domain/changes.ts';
import { createUpstreamPolicy } from '../domain/upstream-policy.ts';
import { changeLogSource, FeedConsumer } from '../feed/consumer.ts';
import type { Feed } from '../feed/feed.ts';
import { createProjectEvents, type EventSource } from '../graphql/project-events.ts';
import { createUsageUpdates } from '../graphql/usage-updates.ts';
import { startBackgroundJobs } from './background.ts';
import { createControlPlaneMetrics } from './control-plane-metrics.ts';
import { createDashboardRoutes } from './dashboard.ts';
import { createControlPlane, type ControlPlaneStats, type HttpLimits, type SubscriptionTuning } from './control-plane.ts';
import type { Logger } from './logger.ts';

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

export interface ControlPlaneRole {
  url: string;
  port: number;
  stats(): ControlPlaneStats & { feedListeners: number };
  /** where `keygate start` wrote the generated admin token, if it did */
  adminTokenFile?: string;
  stop(): Promise<void>;
}

export async function startControlPlaneRole(deps: {
  config: Config;
  prisma: PrismaClient;
  feed: Feed;
  log: Logger;
  tuning?: ControlPlaneTuning;
  /** `keygate start`: generate an admin token file when none is configured */
  generateAdminToken: boolean;
}): Promise<ControlPlaneRole> {
  const { config, prisma, feed, log } = deps;
  const tuning = deps.tuning ?? {};
  const sql = sqlOfPrisma(prisma);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((error: unknown) => log.warn({ err: error }, 'error while stopping'));
  };
  try {
    // Subscriptions consume the same gap-checked feed as the proxies, from the head onwards.
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
    stops.push(() => consumer.stop());
    // Counted so tests can check subscriptions never add listeners to the consumer.
    let feedListeners = 0;
    const source: EventSource = {
      onEvent: (listener) => {
        feedListeners++;
        const off = consumer.onApplied((_revision, event) => event && listener(event));
        return () => {
          feedListeners--;
          off();
        };
      },
    };
    const tuned = tuning.subscriptions ?? {};
    const tokens = createTokenWatch(prisma, {
      intervalMs: tuned.tokenCheckMs ?? 1000,
      onError: (error) => log.debug({ err: (error as Error)?.message }, 'access-token check failed; retrying'),
    });
    stops.push(async () => tokens.stop());
    const events = createProjectEvents({ prisma, source, tokens, maxQueue: tuned.maxQueue });
    const usage = createUsageUpdates({ source: feed, tokens });
    const metrics = createControlPlaneMetrics({
      appliedRevision: () => consumer.applied,
      ready: () => consumer.ready,
      subscribers: () => events.subscriberCount + usage.subscriberCount,
    });
    const changes = createChanges({ prisma, feed, propagationTimeoutMs: config.propagationTimeoutMs, log, onPropagation: metrics.recordPropagation });
    const dashboard = createDashboardRoutes(tuning.dashboardDir);
    const controlPlane = createControlPlane({
      host: config.host,
      port: config.port,
      introspection: config.introspection,
      endpoint: { scheme: config.publicScheme, baseDomain: config.baseDomain, port: config.publicPort || config.proxyPort },
      prisma,
      domain: { prisma, changes, upstreamPolicy: createUpstreamPolicy(config.upstream) },
      events,
      usage,
      authenticate: createAuthenticator(prisma, { adminToken: config.adminToken }),
      log,
      extraRoutes: (req, res) => metrics.routes(req, res) || dashboard(req, res),
      http: tuning.http,
      tokens,
      subscriptions: tuned,
    });
    const { url, port } = await controlPlane.start();
    stops.push(() => controlPlane.stop());
    stops.push(startBackgroundJobs({ prisma, feed, log, retentionHours: config.changelogRetentionHours }));
    const adminTokenFile = deps.generateAdminToken && !config.adminToken ? await ensureAdminTokenFile(prisma, config.dataDir) : undefined;
    return { url, port, adminTokenFile, stats: () => ({ ...controlPlane.stats(), feedListeners }), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
