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

export async function connectPostgres(databaseUrl: string): Promise<SqlConnection> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dropped connection surfaces on the next query
  await client.connect();
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
