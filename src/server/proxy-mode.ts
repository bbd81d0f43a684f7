// The composition root of `keygate proxy`: the data plane alone, one of several replicas sharing
// Postgres and Redis. It reads the change log over a small pg pool and loads no ORM and no
// embedded store (test/cli/proxy-modules.test.ts): nothing here may import db/database.ts.
import type { Config } from '../config/config.ts';
import { openPostgresPool } from '../db/postgres-pool.ts';
import { startDataPlane } from './data-plane.ts';
import { openFeed } from './feed.ts';
import type { Logger } from './logger.ts';
import type { KeygateTuning, RunningKeygate } from './run-modes.ts';
import { createStops } from './stops.ts';

export async function startProxyMode(config: Config, log: Logger, tuning: KeygateTuning): Promise<RunningKeygate> {
  const stops = createStops(log);
  return stops.guard(async () => {
    const feed = openFeed('proxy', config, log);
    stops.add(() => feed.close());
    const pool = await openPostgresPool(config.databaseUrl!);
    stops.add(() => pool.close());
    const dataPlane = await startDataPlane({ config, sql: pool, feed, log, client: tuning.proxyClient });
    stops.add(() => dataPlane.stop());
    return { feed, proxy: { port: dataPlane.port, statusPort: dataPlane.statusPort, proxyId: dataPlane.proxyId, table: dataPlane.table }, stop: stops.stopAll };
  });
}
