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

/** The columns of a key's row that make its KeyState (src/feed/events.ts toKeyState). */
export interface KeyStateRow {
  id: string;
  projectId: string;
  name: string;
  hash: string;
  expiresAt: Date | null;
  previousHash: string | null;
  previousExpiresAt: Date | null;
  rateLimitRequests: number | null;
  rateLimitTokens: number | null;
}

/** What the proxy needs of every key (the previous secret's hash and end during a rotation overlap included). */
export function keyStateRows(sql: Sql): Promise<KeyStateRow[]> {
  return sql.query(
    `SELECT id::text AS id, project_id::text AS "projectId", name, hash, expires_at AS "expiresAt",
            previous_hash AS "previousHash", previous_expires_at AS "previousExpiresAt",
            rate_limit_requests AS "rateLimitRequests", rate_limit_tokens AS "rateLimitTokens"
       FROM api_keys`,
  );
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

/**
 * Claims keys whose expiresAt lies in (now, warnUntil] and whose warning is not announced yet,
 * soonest first, locked until the transaction ends (skipping keys another transaction holds, as
 * claimExpiredKeys does).
 */
export async function claimExpiringKeys(sql: Sql, now: Date, warnUntil: Date, limit: number): Promise<string[]> {
  const rows = await sql.query<{ id: string }>(
    `SELECT id::text AS id FROM api_keys
      WHERE expires_at > $1::timestamptz AND expires_at <= $2::timestamptz AND NOT expiring_announced
      ORDER BY expires_at
      LIMIT $3::int
      FOR UPDATE SKIP LOCKED`,
    [now, warnUntil, limit],
  );
  return rows.map((r) => r.id);
}

/**
 * The one rule for lastUsedAt: each key's moves forward to when it was used, never back (a late
 * or retried flush, or two proxies, cannot rewind it). `ids` and `ats` name the statement's two
 * array parameters (key ids, timestamps). markKeysUsed runs it alone; the usage flush
 * (./usage.ts addUsage) runs it inside its write.
 */
export const keysUsedUpdate = (ids: string, ats: string) =>
  `UPDATE api_keys k SET last_used_at = u.at
     FROM unnest(${ids}::uuid[], ${ats}::timestamptz[]) AS u(id, at)
    WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`;

/** keysUsedUpdate's two parameters for a map of key id → when it was last used (epoch ms). */
export const keysUsedParams = (used: ReadonlyMap<string, number>): [string[], string[]] => [
  [...used.keys()],
  [...used.values()].map((ms) => new Date(ms).toISOString()),
];

/** Records when keys were last used (key id → epoch ms). */
export async function markKeysUsed(sql: Sql, used: ReadonlyMap<string, number>): Promise<void> {
  await sql.execute(keysUsedUpdate('$1', '$2'), keysUsedParams(used));
}
