// The composition root of `keygate start`: the control plane and the proxy in one process, on
// Postgres (DATABASE_URL) or the embedded store, over Redis (REDIS_URL) or an in-process feed.
import type { Config } from '../config/config.ts';
import { type DatabaseOptions, openEmbedded, openPostgres } from '../db/database.ts';
import { sqlOfPrisma } from '../db/sql.ts';
import { startControlPlane } from './control-plane.ts';
import { startDataPlane } from './data-plane.ts';
import { openFeed } from './feed.ts';
import type { Logger } from './logger.ts';
import type { KeygateTuning, RunningKeygate } from './run-modes.ts';
import { createStops } from './stops.ts';
import { localUsageSource } from '../ratelimit/usage-reader.ts';

export async function startAll(config: Config, log: Logger, databaseOptions: DatabaseOptions, tuning: KeygateTuning): Promise<RunningKeygate> {
  if (!config.redisUrl) {
    log.info(config.databaseUrl ? 'no REDIS_URL: running as a single process with an in-process feed (replicas need Redis)' : 'no DATABASE_URL: using the embedded store in %s', config.dataDir);
  }
  const stops = createStops(log);
  return stops.guard(async () => {
    const feed = openFeed('start', config, log);
    stops.add(() => feed.close());
    const database = config.databaseUrl ? await openPostgres(config.databaseUrl, databaseOptions) : await openEmbedded(config.dataDir, databaseOptions);
    stops.add(() => database.close());
    const dataPlane = await startDataPlane({ config, sql: sqlOfPrisma(database.prisma), feed, log, client: tuning.proxyClient });
    stops.add(() => dataPlane.stop());
    const controlPlane = await startControlPlane({ config, prisma: database.prisma, feed, log, tuning, generateAdminToken: true, rateLimitUsage: localUsageSource(dataPlane.rateLimiter) });
    stops.add(() => controlPlane.stop());
    return {
      feed,
      proxy: { port: dataPlane.port, statusPort: dataPlane.statusPort, proxyId: dataPlane.proxyId, table: dataPlane.table },
      controlPlane: { url: controlPlane.url, port: controlPlane.port, stats: controlPlane.stats },
      adminTokenFile: controlPlane.adminTokenFile,
      stop: stops.stopAll,
    };
  });
}
