// The statements of applying migrations, recorded in _prisma_migrations exactly as
// `prisma migrate deploy` records them, so the official CLI agrees with keygate. They run on one
// session (connectPostgres or pgliteSql): the advisory lock and each migration's transaction
// belong to it.
import { randomUUID } from 'node:crypto';
import { inTransaction, type Sql } from '../sql.ts';

/** The advisory lock Prisma Migrate takes, so concurrent runners (ours or Prisma's) serialise. */
const MIGRATION_LOCK = 72707369;

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface AppliedMigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/** Runs `work` holding the migration lock. */
export async function withMigrationLock<T>(sql: Sql, work: () => Promise<T>): Promise<T> {
  await sql.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    return await work();
  } finally {
    await sql.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}

export async function createMigrationsTable(sql: Sql): Promise<void> {
  await sql.execute(CREATE_MIGRATIONS_TABLE);
}

/** The migrations recorded and not rolled back; none when the table does not exist yet. */
export async function appliedMigrationRows(sql: Sql): Promise<AppliedMigrationRow[]> {
  const [exists] = await sql.query<{ t: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS t`);
  if (!exists?.t) return [];
  return sql.query<AppliedMigrationRow>(`SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`);
}

/** Runs a migration's script and records it, in one transaction. */
export async function applyMigrationScript(sql: Sql, migration: { name: string; sql: string; checksum: string }): Promise<void> {
  await inTransaction(sql, 'BEGIN', async (tx) => {
    await tx.execute(migration.sql);
    await tx.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
  });
}
