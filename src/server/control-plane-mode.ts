// The composition root of `keygate control-plane`: the GraphQL API alone, one of several replicas
// sharing Postgres and Redis.
import type { Config } from '../config/config.ts';
import { type DatabaseOptions, openPostgres } from '../db/database.ts';
import { startControlPlane } from './control-plane.ts';
import { openFeed } from './feed.ts';
import type { Logger } from './logger.ts';
import type { KeygateTuning, RunningKeygate } from './run-modes.ts';
import { createStops } from './stops.ts';

export async function startControlPlaneMode(config: Config, log: Logger, databaseOptions: DatabaseOptions, tuning: KeygateTuning): Promise<RunningKeygate> {
  const stops = createStops(log);
  return stops.guard(async () => {
    const feed = openFeed('control-plane', config, log);
    stops.add(() => feed.close());
    const database = await openPostgres(config.databaseUrl!, databaseOptions);
    stops.add(() => database.close());
    const controlPlane = await startControlPlane({ config, prisma: database.prisma, feed, log, tuning, generateAdminToken: false });
    stops.add(() => controlPlane.stop());
    return {
      feed,
      controlPlane: { url: controlPlane.url, port: controlPlane.port, stats: controlPlane.stats },
      adminTokenFile: controlPlane.adminTokenFile,
      stop: stops.stopAll,
    };
  });
}
