// A minimal raw-SQL connection, used where Prisma is the wrong tool: applying migrations
// (multi-statement scripts) and checking the schema before Prisma starts.
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';

export interface SqlConnection {
  /** Runs one parameterised statement and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements (no parameters). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
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

export async function connectPostgres(databaseUrl: string): Promise<SqlConnection> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dropped connection surfaces on the next query
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseUnreachableError(databaseUrl, error);
  }
  return {
    query: async (sql, params) => (await client.query(sql, params)).rows,
    exec: async (script) => {
      await client.query(script);
    },
    close: () => client.end(),
  };
}

/** Wraps an open PGlite instance; closing it is left to its owner. */
export function pgliteConnection(db: PGlite): SqlConnection {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    exec: async (script) => {
      await db.exec(script);
    },
    close: async () => {},
  };
}
