// Opens keygate's database: Postgres at DATABASE_URL, or the embedded store (PGlite, Postgres in
// WebAssembly) under KEYGATE_DATA_DIR, which applies the same migrations to itself.
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { makeDirPrivate } from './private-dir.ts';
import { applyMigrations, readMigrations } from './migrations.ts';
import { assertMigrated } from './postgres-pool.ts';
import { connectPostgres, pgliteSql } from './sql.ts';

export type { PrismaClient };
/** Prisma inside one of its interactive transactions. */
export type Tx = Prisma.TransactionClient;

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

function createClient(adapter: SqlDriverAdapterFactory, options: DatabaseOptions): PrismaClient {
  const { onQuery } = options;
  if (!onQuery) return new PrismaClient({ adapter });
  const prisma = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' } as const] });
  prisma.$on('query', (e) => onQuery(e.query));
  return prisma as unknown as PrismaClient;
}

/** Connects Prisma to Postgres; refuses a database that lacks the committed migrations. */
export async function openPostgres(databaseUrl: string, options: DatabaseOptions = {}): Promise<Database> {
  await assertMigrated(databaseUrl);
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
  const prisma = createClient(adapter, options);
  return { prisma, kind: 'postgres', close: () => prisma.$disconnect() };
}

/**
 * Opens (and migrates) the embedded store in dataDir; its data survives restarts. Holds the data
 * directory's lock until close: a second process gets DataDirLockedError instead of a store that
 * silently loses its writes.
 */
export async function openEmbedded(dataDir: string, options: DatabaseOptions = {}): Promise<Database> {
  const lock = await lockDataDir(dataDir);
  try {
    const dir = join(dataDir, 'pgdata');
    await makeDirPrivate(dataDir);
    const pglite = await PGlite.create(dir);
    try {
      await applyMigrations(pgliteSql(pglite), await readMigrations());
      await makeDirPrivate(dataDir); // PGlite wrote its files with its own modes
    } catch (error) {
      await pglite.close();
      throw error;
    }
    const prisma = createClient(new PrismaPGlite(pglite), options);
    return {
      prisma,
      kind: 'embedded',
      close: async () => {
        try {
          await prisma.$disconnect();
          await pglite.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
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
