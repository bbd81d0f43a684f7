// Assembles keygate for one run mode: the feed, the database connection the mode needs, the
// data plane and/or the control plane. Everything is created here and passed down; nothing is
// global, and each role's modules load only in the modes that run it.
import type { Config } from '../config/config.ts';
import { type DatabaseOptions, openEmbedded, openPostgres, openPostgresPool } from '../db/database.ts';
import { sqlOfPrisma } from '../db/queries.ts';
import type { Feed } from '../feed/feed.ts';
import { createLocalFeed } from '../feed/local-feed.ts';
import { createRedisFeed } from '../feed/redis-feed.ts';
import type { AuthTable } from '../proxy/auth-table.ts';
import type { ProxyServerConfig } from '../proxy/proxy-server.ts';
import type { ControlPlaneRole, ControlPlaneTuning } from './control-plane-role.ts';
import type { Logger } from './logger.ts';

export type RunMode = 'start' | 'control-plane' | 'proxy';

export interface RunningKeygate {
  feed: Feed;
  controlPlane?: Omit<ControlPlaneRole, 'stop' | 'adminTokenFile'>;
  /** statusPort: the proxy's status listener (/metrics) */
  proxy?: { port: number; statusPort: number; proxyId: string; table: AuthTable };
  adminTokenFile?: string;
  stop(): Promise<void>;
}

export class StartupError extends Error {}

/** Knobs that tests turn (short timeouts, small queues); no configuration variable sets them. */
export interface KeygateTuning extends ControlPlaneTuning {
  /** the proxy's client-side timeouts */
  proxyClient?: ProxyServerConfig['client'];
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
  const stops: (() => Promise<void>)[] = [];
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
    const running: RunningKeygate = { feed, stop: stopAll };

    // A proxy alone reads the change log over a small pg pool and carries no ORM; the other modes
    // use Prisma, on Postgres or the embedded store.
    let prisma = null;
    let sql;
    if (mode === 'proxy') {
      const pool = await openPostgresPool(config.databaseUrl!);
      stops.push(() => pool.close());
      sql = pool;
    } else {
      const database = config.databaseUrl ? await openPostgres(config.databaseUrl, databaseOptions) : await openEmbedded(config.dataDir, databaseOptions);
      stops.push(() => database.close());
      prisma = database.prisma;
      sql = sqlOfPrisma(prisma);
    }

    if (mode !== 'control-plane') {
      const { startDataPlane } = await import('./data-plane.ts');
      const { Registry } = await import('prom-client');
      const dataPlane = await startDataPlane({ config, sql, feed, log, registry: new Registry(), client: tuning.proxyClient });
      running.proxy = { port: dataPlane.port, statusPort: dataPlane.statusPort, proxyId: dataPlane.proxyId, table: dataPlane.table };
      stops.push(() => dataPlane.stop());
    }
    if (prisma) {
      const { startControlPlaneRole } = await import('./control-plane-role.ts');
      const role = await startControlPlaneRole({ config, prisma, feed, log, tuning, generateAdminToken: mode === 'start' });
      stops.push(() => role.stop());
      running.controlPlane = { url: role.url, port: role.port, stats: role.stats };
      running.adminTokenFile = role.adminTokenFile;
    }
    return running;
  } catch (error) {
    await stopAll();
    throw error;
  }
}
