// Opens keygate's database: Postgres at DATABASE_URL, or the embedded store (PGlite, Postgres in
// WebAssembly) under KEYGATE_DATA_DIR, which applies the same migrations to itself.
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../generated/prisma/client.ts';
import { makeDirPrivate } from './private-dir.ts';
import { applyMigrations, pendingMigrations, readMigrations } from './migrations.ts';
import { createSqlPool, type SqlPool } from './queries.ts';
import { connectPostgres, pgliteConnection } from './sql.ts';

export type { PrismaClient };

export interface Database {
  prisma: PrismaClient;
  kind: 'postgres' | 'embedded';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Postgres pool size per process. */
  poolSize?: number;
  /** Called for every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
}

export class NotMigratedError extends Error {
  constructor(pending: string[]) {
    super(`the database is missing keygate's migrations (${pending.join(', ')}): run keygate migrate`);
    this.name = 'NotMigratedError';
  }
}

function createClient(adapter: SqlDriverAdapterFactory, options: DatabaseOptions): PrismaClient {
  const { onQuery } = options;
  if (!onQuery) return new PrismaClient({ adapter });
  const prisma = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' } as const] });
  prisma.$on('query', (e) => onQuery(e.query));
  return prisma as unknown as PrismaClient;
}

/** Refuses a database that lacks the committed migrations. */
async function assertMigrated(databaseUrl: string): Promise<void> {
  const sql = await connectPostgres(databaseUrl);
  try {
    const pending = await pendingMigrations(sql, await readMigrations());
    if (pending.length > 0) throw new NotMigratedError(pending);
  } finally {
    await sql.close();
  }
}

/** A small raw-SQL pool on a migrated database: all a proxy process needs. */
export async function openPostgresPool(databaseUrl: string): Promise<SqlPool> {
  await assertMigrated(databaseUrl);
  return createSqlPool(databaseUrl);
}

/** Connects Prisma to Postgres; refuses a database that lacks the committed migrations. */
export async function openPostgres(databaseUrl: string, options: DatabaseOptions = {}): Promise<Database> {
  await assertMigrated(databaseUrl);
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
  const prisma = createClient(adapter, options);
  return { prisma, kind: 'postgres', close: () => prisma.$disconnect() };
}

/** Opens (and migrates) the embedded store in dataDir; its data survives restarts. */
export async function openEmbedded(dataDir: string, options: DatabaseOptions = {}): Promise<Database> {
  const dir = join(dataDir, 'pgdata');
  await makeDirPrivate(dataDir);
  const pglite = await PGlite.create(dir);
  await applyMigrations(pgliteConnection(pglite), await readMigrations());
  await makeDirPrivate(dataDir); // PGlite wrote its files with its own modes
  const prisma = createClient(new PrismaPGlite(pglite), options);
  return {
    prisma,
    kind: 'embedded',
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

/** Applies the committed migrations to a Postgres database (what `keygate migrate` runs). */
export async function migratePostgres(databaseUrl: string): Promise<string[]> {
  const sql = await connectPostgres(databaseUrl);
  try {
    return await applyMigrations(sql, await readMigrations());
  } finally {
    await sql.close();
  }
}
