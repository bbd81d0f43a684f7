// Parameterised SQL for the reads the feed needs, on any of keygate's connections: a pg pool (the
// proxy carries no ORM), or Prisma (the control plane, Postgres or the embedded store).
import pg from 'pg';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Prisma } from '../generated/prisma/client.ts';

export interface Query {
  /** one statement; its rows */
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Sql extends Query {
  /** one statement that returns no rows (UPDATE, DELETE) */
  execute(text: string, params?: unknown[]): Promise<void>;
  /** runs `read` in one REPEATABLE READ transaction: a consistent picture across statements */
  consistentRead<T>(read: (q: Query) => Promise<T>): Promise<T>;
}

type PrismaLike = Pick<PrismaClient, '$queryRawUnsafe' | '$executeRawUnsafe'>;

/** Raw SQL through Prisma (or inside one of its transactions). */
export function sqlOfPrisma(prisma: PrismaClient | Prisma.TransactionClient): Sql {
  const p = prisma as PrismaLike;
  const query: Query['query'] = (text, params = []) => p.$queryRawUnsafe(text, ...params);
  return {
    query,
    execute: async (text, params = []) => {
      await p.$executeRawUnsafe(text, ...params);
    },
    consistentRead: (read) =>
      '$transaction' in prisma
        ? (prisma as PrismaClient).$transaction((tx) => read({ query: (t, params = []) => tx.$queryRawUnsafe(t, ...params) }), {
            isolationLevel: 'RepeatableRead',
            timeout: 60_000,
          })
        : read({ query }),
  };
}

export interface SqlPool extends Sql {
  close(): Promise<void>;
}

/** A small pg pool: what a proxy process uses to read the change log and write lastUsedAt. */
export function createSqlPool(databaseUrl: string, max = 4): SqlPool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  pool.on('error', () => {}); // a dropped idle client; the next query reports the outage
  const query: Query['query'] = async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as T[];
  return {
    query,
    execute: async (text, params) => {
      await pool.query(text, params);
    },
    async consistentRead(read) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const result = await read({ query: async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[] });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
