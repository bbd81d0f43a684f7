// Where `keygate start` keeps the admin token it generated, and where the CLI looks for one. The
// embedded store's is KEYGATE_DATA_DIR/admin-token; a Postgres database gets its own file beside
// it, named after the database, so a start on Postgres never overwrites the embedded store's token
// (nor another database's).
import { join } from 'node:path';
import type { Config } from './config.ts';

export function adminTokenFile(config: Pick<Config, 'dataDir' | 'databaseUrl'>): string {
  if (!config.databaseUrl) return join(config.dataDir, 'admin-token');
  const url = new URL(config.databaseUrl);
  const name = `${url.hostname || 'localhost'}-${url.port || 5432}-${decodeURIComponent(url.pathname.slice(1)) || 'postgres'}`;
  return join(config.dataDir, `admin-token.postgres.${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
}
