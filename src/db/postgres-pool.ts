// What a proxy process needs of Postgres, without the ORM or the embedded store: a check that the
// committed migrations are applied, and a small raw-SQL pool. Nothing here may import Prisma or
// PGlite (test/cli/proxy-modules.test.ts holds the proxy process to it).
import { pendingMigrations, readMigrations } from './migrations.ts';
import { connectPostgres, createSqlPool, type OpenSql } from './sql.ts';

export class NotMigratedError extends Error {
  constructor(pending: string[]) {
    super(`the database is missing keygate's migrations (${pending.join(', ')}): run keygate migrate`);
    this.name = 'NotMigratedError';
  }
}

/** Refuses a database that lacks the committed migrations. */
export async function assertMigrated(databaseUrl: string): Promise<void> {
  const sql = await connectPostgres(databaseUrl);
  try {
    const pending = await pendingMigrations(sql, await readMigrations());
    if (pending.length > 0) throw new NotMigratedError(pending);
  } finally {
    await sql.close();
  }
}

/** A small raw-SQL pool on a migrated database: all a proxy process needs. */
export async function openPostgresPool(databaseUrl: string): Promise<OpenSql> {
  await assertMigrated(databaseUrl);
  return createSqlPool(databaseUrl);
}
