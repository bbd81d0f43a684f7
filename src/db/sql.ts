// keygate's one raw-SQL interface, on each of its connections: Prisma (the control plane, on
// Postgres or the embedded store, inside or outside a transaction), a small pg pool (a proxy
// process carries no ORM), and one session (a pg client or PGlite) for migrations. Every
// statement that uses it is a named function in ./statements/.
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';

export interface Sql {
  /** one parameterised statement; its rows */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** a statement that returns no rows; without params, on one session, a script of several */
  execute(text: string, params?: unknown[]): Promise<void>;
  /** runs `read` in one REPEATABLE READ transaction: a consistent picture across statements */
  consistentRead<T>(read: (q: Sql) => Promise<T>): Promise<T>;
}

/** A connection or pool this process opened, and so closes. */
export interface OpenSql extends Sql {
  close(): Promise<void>;
}

type Run = <T>(text: string, params?: unknown[]) => Promise<T[]>;

/** Runs `work` between `begin` and COMMIT on one session, rolling back when it throws. */
export async function inTransaction<T>(session: Sql, begin: string, work: (q: Sql) => Promise<T>): Promise<T> {
  await session.execute(begin);
  try {
    const result = await work(session);
    await session.execute('COMMIT');
    return result;
  } catch (error) {
    await session.execute('ROLLBACK').catch(() => {});
    throw error;
  }
}

const READ_ONLY_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

/** Sql over one session, whose statements run in order on one connection. */
function sessionSql(run: Run, script: (text: string) => Promise<unknown>, close: () => Promise<void>): OpenSql {
  const sql: OpenSql = {
    query: run,
    execute: async (text, params) => {
      await (params ? run(text, params) : script(text));
    },
    consistentRead: (read) => inTransaction(sql, READ_ONLY_SNAPSHOT, read),
    close,
  };
  return sql;
}

type PrismaLike = Pick<PrismaClient, '$queryRawUnsafe' | '$executeRawUnsafe'>;

/** Raw SQL through Prisma (or inside one of its transactions). */
export function sqlOfPrisma(prisma: PrismaClient | Prisma.TransactionClient): Sql {
  const p = prisma as PrismaLike;
  const sql: Sql = {
    query: (text, params = []) => p.$queryRawUnsafe(text, ...params),
    execute: async (text, params = []) => {
      await p.$executeRawUnsafe(text, ...params);
    },
    consistentRead: (read) =>
      '$transaction' in prisma
        ? (prisma as PrismaClient).$transaction((tx) => read(sqlOfPrisma(tx)), { isolationLevel: 'RepeatableRead', timeout: 60_000 })
        : read(sql),
  };
  return sql;
}

/** A small pg pool: what a proxy process uses to read the change log and write lastUsedAt. */
export function createSqlPool(databaseUrl: string, max = 4): OpenSql {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  pool.on('error', () => {}); // a dropped idle client; the next query reports the outage
  return {
    query: async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as T[],
    execute: async (text, params) => {
      await pool.query(text, params);
    },
    async consistentRead(read) {
      const client = await pool.connect();
      try {
        return await clientSql(client, async () => {}).consistentRead(read);
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

function clientSql(client: pg.ClientBase, close: () => Promise<void>): OpenSql {
  return sessionSql(async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[], (text) => client.query(text), close);
}

/** One session on Postgres: migrations and the schema check before Prisma starts. */
export async function connectPostgres(databaseUrl: string): Promise<OpenSql> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dropped connection surfaces on the next query
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseUnreachableError(databaseUrl, error);
  }
  return clientSql(client, () => client.end());
}

/** Postgres cannot be reached at start: the message names the variable to check, never the password. */
export class DatabaseUnreachableError extends Error {
  constructor(databaseUrl: string, cause: unknown) {
    super(`cannot connect to Postgres at ${describePostgresUrl(databaseUrl)} (DATABASE_URL): ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'DatabaseUnreachableError';
  }
}

/** user@host:port/database, without the password. */
export function describePostgresUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
    return `${user}${url.hostname || 'localhost'}:${url.port || 5432}${url.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}

/** An open PGlite instance as one session; closing it is left to its owner. */
export function pgliteSql(db: PGlite): OpenSql {
  return sessionSql(async <T>(text: string, params?: unknown[]) => (await db.query<T>(text, params)).rows, (text) => db.exec(text), async () => {});
}
