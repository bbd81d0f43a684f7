// Applies the committed migrations in prisma/migrations without the Prisma CLI, recording each in
// _prisma_migrations exactly as `prisma migrate deploy` does, so the official CLI agrees with us.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Sql } from './sql.ts';
import { applyMigrationScript, appliedMigrationRows, createMigrationsTable, withMigrationLock } from './statements/migrations.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(`${dir}/${name}/migration.sql`, 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

export class MigrationError extends Error {}

/** Applies every pending migration, each in its own transaction; returns the names applied. */
export async function applyMigrations(db: Sql, migrations: Migration[]): Promise<string[]> {
  return withMigrationLock(db, async () => {
    await createMigrationsTable(db);
    const applied = new Map((await appliedMigrationRows(db)).map((r) => [r.migration_name, r]));
    const done: string[] = [];
    for (const m of migrations) {
      const row = applied.get(m.name);
      if (row?.finished_at) {
        if (row.checksum !== m.checksum) {
          throw new MigrationError(`migration ${m.name} was changed after it was applied (checksum differs)`);
        }
        continue;
      }
      if (row) throw new MigrationError(`migration ${m.name} failed earlier and needs manual repair`);
      try {
        await applyMigrationScript(db, m);
      } catch (error) {
        throw new MigrationError(`migration ${m.name} failed: ${(error as Error).message}`);
      }
      done.push(m.name);
    }
    return done;
  });
}

/** The committed migrations the database has not applied yet. */
export async function pendingMigrations(db: Sql, migrations: Migration[]): Promise<string[]> {
  const applied = new Set((await appliedMigrationRows(db)).filter((r) => r.finished_at).map((r) => r.migration_name));
  return migrations.filter((m) => !applied.has(m.name)).map((m) => m.name);
}
