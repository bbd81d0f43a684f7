// API keys' statements: the row lock of a change, the keys the proxy enforces, the expiry claim,
// and lastUsedAt.
import { API_KEY_COLUMNS, pickRow, selectList } from '../rows.ts';
import type { Sql } from '../sql.ts';
import { type ChangeRow, type EventToRecord, eventParams, recordEvent } from './change-log.ts';
import { DEPLOYMENT_STATES } from './deployments.ts';
import type { ApiKey } from '../../generated/prisma/client.ts';

/** The columns a new key is written with; the others take their defaults. */
export type NewApiKeyRow = Pick<
  ApiKey,
  'id' | 'projectId' | 'name' | 'description' | 'prefix' | 'hash' | 'expiresAt' | 'createdAt' | 'rateLimitRequests' | 'rateLimitTokens'
>;

const KEY_PREFIX = 'key.';

/**
 * Creates a key and records its event (API_KEY_CREATED, `event`), in one statement: its own
 * transaction, the counter row locked only until its commit. The key goes into its project only
 * when the project exists and the name is free there (a concurrent create of the same name is
 * waited for), and only then is a revision taken. `apiKey` and `event` are null when nothing was
 * written: `projectFound` and `counterFound` (the feed_state row: no key without its event) tell why.
 */
export async function insertApiKeyAndRecord(
  sql: Sql,
  key: NewApiKeyRow,
  event: EventToRecord,
): Promise<{ projectFound: boolean; counterFound: boolean; apiKey: ApiKey | null; event: ChangeRow | null }> {
  const [row] = await sql.query<{ projectFound: boolean; counterFound: boolean } & ChangeRow & Record<string, unknown>>(
    `WITH project AS (SELECT id FROM projects WHERE id = $1::uuid),
     counter AS (SELECT FROM feed_state WHERE id = 1),
     written AS (
       INSERT INTO api_keys AS k (id, project_id, name, description, prefix, hash, expires_at, created_at, rate_limit_requests, rate_limit_tokens)
       SELECT $6::uuid, project.id, $7, $8, $9, $10, $11::timestamptz, $12::timestamptz, $13::int, $14::int FROM project
       WHERE EXISTS (SELECT FROM counter)
       ON CONFLICT (project_id, name) DO NOTHING
       RETURNING ${selectList(API_KEY_COLUMNS, 'k', KEY_PREFIX)}),
     ${recordEvent(DEPLOYMENT_STATES, 'AND EXISTS (SELECT FROM written)')}
     SELECT EXISTS (SELECT FROM project) AS "projectFound", EXISTS (SELECT FROM counter) AS "counterFound", written.*, recorded.*
       FROM (SELECT) AS one LEFT JOIN written ON true LEFT JOIN recorded ON true`,
    [
      ...eventParams({ ...event, projectId: key.projectId }),
      key.id,
      key.name,
      key.description,
      key.prefix,
      key.hash,
      key.expiresAt,
      key.createdAt,
      key.rateLimitRequests,
      key.rateLimitTokens,
    ],
  );
  const { projectFound, counterFound, revision, projectId, type, actor, at, payload } = row!;
  return {
    projectFound,
    counterFound,
    apiKey: pickRow(row!, API_KEY_COLUMNS, KEY_PREFIX),
    event: revision == null ? null : { revision, projectId, type, actor, at, payload },
  };
}

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
