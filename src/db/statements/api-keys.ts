// API keys' statements: the row lock of a change, the keys the proxy enforces, the expiry claim,
// and lastUsedAt.
import { API_KEY_COLUMNS, pickRow, selectList } from '../rows.ts';
import type { Sql } from '../sql.ts';
import type { ApiKey } from '../../generated/prisma/client.ts';

/** Locks an API key (FOR UPDATE, until the transaction ends) and returns its row; null when there is none. */
export async function lockApiKeyRow(sql: Sql, id: string): Promise<ApiKey | null> {
  const [row] = await sql.query(`SELECT ${selectList(API_KEY_COLUMNS, 'k')} FROM api_keys k WHERE k.id = $1::uuid FOR UPDATE`, [id]);
  return row ? pickRow(row, API_KEY_COLUMNS) : null;
}

/** What the proxy needs of every key. */
export function keyStateRows(sql: Sql): Promise<{ id: string; projectId: string; name: string; hash: string; expiresAt: Date | null }[]> {
  return sql.query('SELECT id::text AS id, project_id::text AS "projectId", name, hash, expires_at AS "expiresAt" FROM api_keys');
}

/**
 * Claims keys whose expiresAt has passed and whose expiry is not announced yet, oldest first,
 * locked until the transaction ends; a key another transaction holds is skipped, so concurrent
 * sweepers never claim one key twice.
 */
export async function claimExpiredKeys(sql: Sql, now: Date, limit: number): Promise<string[]> {
  const rows = await sql.query<{ id: string }>(
    `SELECT id::text AS id FROM api_keys
      WHERE expires_at <= $1::timestamptz AND NOT expiry_announced
      ORDER BY expires_at
      LIMIT $2::int
      FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return rows.map((r) => r.id);
}

/** Sets lastUsedAt to now for every key of `ids`. */
export async function markKeysUsed(sql: Sql, ids: string[]): Promise<void> {
  await sql.execute('UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1::uuid[])', [ids]);
}
