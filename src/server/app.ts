// Assembles keygate from its parts for one run mode: the database, the feed, the control plane
// and (once it joins) the proxy. Everything is created here and passed down; nothing is global.
import type { Config } from '../config/config.ts';
import { type Database, type DatabaseOptions, openEmbedded, openPostgres } from '../db/database.ts';
import { createAuthenticator, createTokenWatch, ensureAdminTokenFile } from '../domain/access-tokens.ts';
import { createChanges } from '../domain/changes.ts';
import type { DomainDeps } from '../domain/deps.ts';
import { createUpstreamPolicy } from '../domain/upstream-policy.ts';
import type { Feed } from '../feed/feed.ts';
import { createLocalFeed } from '../feed/local-feed.ts';
import { createProjectEvents, type EventSource, type ProjectEvents } from '../graphql/project-events.ts';
import { changeLogSource, FeedConsumer } from '../feed/consumer.ts';
import { createRedisFeed } from '../feed/redis-feed.ts';
import { headRevision } from '../domain/change-log.ts';
import { Registry } from 'prom-client';
import { startBackgroundJobs } from './background.ts';
import type { AuthTable } from '../proxy/auth-table.ts';
import type { ProxyServerConfig } from '../proxy/proxy-server.ts';
import { createControlPlaneMetrics } from './control-plane-metrics.ts';
import type { ControlPlaneStats, HttpLimits, SubscriptionTuning } from './control-plane.ts';
import type { Logger } from './logger.ts';

export type RunMode = 'start' | 'control-plane' | 'proxy';

export interface RunningKeygate {
  database: Database;
  feed: Feed;
  controlPlane?: { url: string; port: number; stats(): ControlPlaneStats & { feedListeners: number } };
  proxy?: { port: number; proxyId: string; table: AuthTable };
  adminTokenFile?: string;
  stop(): Promise<void>;
}

export class StartupError extends Error {}

/** Knobs that tests turn (short timeouts, small queues); no configuration variable sets them. */
export interface KeygateTuning {
  /** the control plane's HTTP limits */
  http?: Partial<HttpLimits>;
  /** the proxy's client-side timeouts */
  proxyClient?: ProxyServerConfig['client'];
  subscriptions?: SubscriptionTuning & {
    /** events held per subscriber before it counts as too slow (1013); default 1000 */
    maxQueue?: number;
    /** how often deleted or expired access tokens end their sessions; default 1000 ms */
    tokenCheckMs?: number;
  };
}

/** The run mode's requirements on DATABASE_URL and REDIS_URL (DESIGN.md "Run modes"). */
export function checkRunMode(mode: RunMode, config: Config): void {
  if (mode !== 'start' && (!config.databaseUrl || !config.redisUrl)) {
    throw new StartupError(`keygate ${mode} needs DATABASE_URL and REDIS_URL: it runs as one of several replicas sharing Postgres and Redis`);
  }
}

export async function startKeygate(
  mode: RunMode,
  config: Config,
  log: Logger,
  databaseOptions: DatabaseOptions = {},
  tuning: KeygateTuning = {},
): Promise<RunningKeygate> {
  checkRunMode(mode, config);
  const database = config.databaseUrl
    ? await openPostgres(config.databaseUrl, databaseOptions)
    : await openEmbedded(config.dataDir, databaseOptions);
  const stops: (() => Promise<void>)[] = [() => database.close()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log.warn({ err: error }, 'error while stopping'));
  };
  try {
    if (!config.redisUrl && mode === 'start') {
      log.info(config.databaseUrl ? 'no REDIS_URL: running as a single process with an in-process feed (replicas need Redis)' : 'no DATABASE_URL: using the embedded store in %s', config.dataDir);
    }
    const feed: Feed = config.redisUrl
      ? createRedisFeed({ url: config.redisUrl, prefix: config.redisPrefix, log, connectionName: `keygate-${mode}` })
      : createLocalFeed();
    stops.push(() => feed.close());
    const { prisma } = database;
    // Late-bound: the control plane's consumer and subscriptions exist only in its run modes.
    let cpConsumer: FeedConsumer | null = null;
    let events: ProjectEvents | null = null;
    const metrics = createControlPlaneMetrics({
      appliedRevision: () => cpConsumer?.applied ?? 0,
      ready: () => cpConsumer?.ready ?? false,
      subscribers: () => events?.subscriberCount ?? 0,
    });
    const changes = createChanges({
      prisma,
      feed,
      propagationTimeoutMs: config.propagationTimeoutMs,
      log,
      onPropagation: metrics.recordPropagation,
    });
    const domain: DomainDeps = { prisma, changes, upstreamPolicy: createUpstreamPolicy(config.upstream) };
    const running: RunningKeygate = { database, feed, stop: stopAll };

    if (mode === 'start' || mode === 'proxy') {
      // Each part is loaded only in the modes that run it: a proxy does not carry the GraphQL stack.
      const { startDataPlane } = await import('./data-plane.ts');
      const dataPlane = await startDataPlane({ config, prisma, feed, log, registry: new Registry(), client: tuning.proxyClient });
      running.proxy = { port: dataPlane.port, proxyId: dataPlane.proxyId, table: dataPlane.table };
      stops.push(() => dataPlane.stop());
    }

    if (mode === 'start' || mode === 'control-plane') {
      const { createControlPlane } = await import('./control-plane.ts');
      // Subscriptions consume the same gap-checked feed as the proxies, from the head onwards.
      const consumer = new FeedConsumer({
        feed,
        source: changeLogSource(prisma),
        initialize: () => headRevision(prisma),
        apply: () => {},
        pollIntervalMs: config.pollIntervalMs,
        maxStalenessMs: config.maxStalenessMs,
        log: log.child({ component: 'control-plane-feed' }),
      });
      await consumer.start();
      cpConsumer = consumer;
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
      events = createProjectEvents({ prisma, source, tokens, maxQueue: tuned.maxQueue });
      const controlPlane = createControlPlane({
        host: config.host,
        port: config.port,
        introspection: config.introspection,
        endpoint: { scheme: config.publicScheme, baseDomain: config.baseDomain, port: config.publicPort || config.proxyPort },
        prisma,
        domain,
        events,
        authenticate: createAuthenticator(prisma, { adminToken: config.adminToken }),
        log,
        extraRoutes: metrics.routes,
        http: tuning.http,
        tokens,
        subscriptions: tuned,
      });
      running.controlPlane = { ...(await controlPlane.start()), stats: () => ({ ...controlPlane.stats(), feedListeners }) };
      stops.push(() => controlPlane.stop());
      stops.push(startBackgroundJobs({ prisma, feed, log, retentionHours: config.changelogRetentionHours }));
      if (mode === 'start' && !config.adminToken) running.adminTokenFile = await ensureAdminTokenFile(prisma, config.dataDir);
    }
    return running;
  } catch (error) {
    await stopAll();
    throw error;
  }
}
