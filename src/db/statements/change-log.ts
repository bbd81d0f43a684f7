// The change log's statements: taking a revision and recording an event in one statement, and
// the reads that let a consumer catch up (the head, events after a revision, the oldest kept).
// Rows come back as stored; src/feed/change-log.ts turns them into the feed's events.
import type { Sql } from '../sql.ts';
import { DEPLOYMENT_STATES, deploymentStatesFrom, GROUP_STATES } from './deployments.ts';

export interface ChangeRow {
  revision: number;
  projectId: string;
  type: string;
  actor: string | null;
  at: Date;
  payload: unknown;
}

const EVENT_COLUMNS = 'revision, project_id::text AS "projectId", type, actor, at, payload';

/** An event to record; with `deploymentId`, that deployment's state joins the payload as `deployment`. */
export interface EventToRecord {
  projectId: string;
  type: string;
  actor: string | null;
  payload: unknown;
  deploymentId: string | null;
}

/** An event's parameters, $1–$5 of a statement that records it (recordEvent). */
export const eventParams = (event: EventToRecord): unknown[] => [event.projectId, event.type, event.actor, JSON.stringify(event.payload), event.deploymentId];

/**
 * The CTEs that record an event ($1–$5: eventParams) at the end of a statement: `next` takes the
 * next revision (`gate` can make that depend on a write before it), `recorded` inserts the event,
 * the deployment's state read by `states` (deploymentStatesFrom) joining the payload, and returns
 * it as a ChangeRow.
 */
export const recordEvent = (states: string, gate = '') => `
  next AS (UPDATE feed_state SET revision = revision + 1 WHERE id = 1 ${gate} RETURNING revision),
  recorded AS (
    INSERT INTO change_events (revision, project_id, type, actor, at, payload)
    SELECT revision, $1::uuid, $2, $3, clock_timestamp(),
           $4::jsonb || COALESCE((SELECT jsonb_build_object('deployment', to_jsonb(s)) FROM (${states} WHERE d.id = $5::uuid ${GROUP_STATES}) s), '{}')
      FROM next
    RETURNING ${EVENT_COLUMNS})`;

/**
 * Takes the next revision and records the event, in one statement. The counter row stays locked
 * until commit, so commit order is revision order: run it last in the caller's transaction, and
 * the lock is held only for the commit. With `deploymentId`, that deployment's state (as
 * deploymentStates reads it, after every write of the transaction) joins the payload as
 * `deployment`. Undefined: the feed_state row is missing.
 */
export async function insertChangeEvent(sql: Sql, event: EventToRecord): Promise<ChangeRow | undefined> {
  const [row] = await sql.query<ChangeRow>(`WITH ${recordEvent(DEPLOYMENT_STATES)} SELECT * FROM recorded`, eventParams(event));
  return row;
}

// A link's write ($6 the key, $5 the deployment, $7 when linked) and the linked set it leaves, as
// the statement's own reads see it (they do not see its write). Linking writes only when the link
// is missing, so the key joins the set; unlinking removes it.
const LINK = {
  write: `INSERT INTO api_key_links (api_key_id, deployment_id, created_at) VALUES ($6::uuid, $5::uuid, $7::timestamptz) ON CONFLICT DO NOTHING RETURNING 1`,
  links: `(SELECT api_key_id, deployment_id FROM api_key_links WHERE deployment_id = $5::uuid UNION ALL SELECT $6::uuid, $5::uuid)`,
};
const UNLINK = {
  write: `DELETE FROM api_key_links WHERE api_key_id = $6::uuid AND deployment_id = $5::uuid RETURNING 1`,
  links: `(SELECT api_key_id, deployment_id FROM api_key_links WHERE deployment_id = $5::uuid AND api_key_id <> $6::uuid)`,
};

/**
 * Links (`linkedAt` given) or unlinks a key and records the event in one statement, as
 * insertChangeEvent does (last in the transaction, the deployment locked by an earlier statement
 * so its linked set is complete), the deployment's resulting state in the payload. Takes a
 * revision only when the write changed something (`written`); `event` is null when it did not, or
 * when the feed_state row is missing.
 */
export async function writeLinkAndRecord(
  sql: Sql,
  event: EventToRecord & { deploymentId: string },
  apiKeyId: string,
  linkedAt: Date | null,
): Promise<{ written: boolean; event: ChangeRow | null }> {
  const { write, links } = linkedAt ? LINK : UNLINK;
  const params: unknown[] = [...eventParams(event), apiKeyId];
  if (linkedAt) params.push(linkedAt);
  const [row] = await sql.query<{ written: boolean } & ChangeRow>(
    `WITH written AS (${write}), ${recordEvent(deploymentStatesFrom(links), 'AND EXISTS (SELECT FROM written)')}
     SELECT EXISTS (SELECT FROM written) AS written, recorded.* FROM (SELECT) AS one LEFT JOIN recorded ON true`,
    params,
  );
  const { written, ...recorded } = row!;
  return { written, event: recorded.revision == null ? null : recorded };
}

/** The revision of the last committed change; 0 before the first. */
export async function headRevision(sql: Sql): Promise<number> {
  const [row] = await sql.query<{ revision: number }>('SELECT revision FROM feed_state WHERE id = 1');
  return row?.revision ?? 0;
}

/** Events after `revision`, oldest first, at most `limit`; `projectId` narrows to one project. */
export function changeRowsAfter(sql: Sql, revision: number, limit: number, projectId?: string): Promise<ChangeRow[]> {
  return projectId
    ? sql.query<ChangeRow>(
        `SELECT ${EVENT_COLUMNS} FROM change_events WHERE revision > $1 AND project_id = $2::uuid ORDER BY revision LIMIT $3`,
        [revision, projectId, limit],
      )
    : sql.query<ChangeRow>(`SELECT ${EVENT_COLUMNS} FROM change_events WHERE revision > $1 ORDER BY revision LIMIT $2`, [revision, limit]);
}

/** The oldest revision still in the log; null when the log is empty. */
export async function oldestRetainedRevision(sql: Sql): Promise<number | null> {
  const [row] = await sql.query<{ revision: number | null }>('SELECT min(revision) AS revision FROM change_events');
  return row?.revision ?? null;
}

/** What the audit trail narrows a project's change log to (each given condition must hold). */
export interface ChangeFilter {
  projectId: string;
  types?: readonly string[] | null;
  /** the access token's name that made the change */
  actor?: string | null;
  /** the key the event is about */
  apiKeyId?: string | null;
  /** the deployment the event is about, or one a forced key delete unlinked */
  deploymentId?: string | null;
}

/** The WHERE clause of a ChangeFilter and its parameters, numbered from $1. */
function changeFilterSql(filter: ChangeFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [filter.projectId];
  const where = ['project_id = $1::uuid'];
  if (filter.types) where.push(`type = ANY($${params.push([...filter.types])}::text[])`);
  if (filter.actor != null) where.push(`actor = $${params.push(filter.actor)}`);
  if (filter.apiKeyId != null) where.push(`payload->>'apiKeyId' = $${params.push(filter.apiKeyId)}`);
  if (filter.deploymentId != null) {
    const n = params.push(filter.deploymentId);
    // Only a forced key delete names deployments in `deployments`: the type narrows that branch to
    // an index too, so both sides of the OR are index scans.
    where.push(
      `(payload->>'deploymentId' = $${n} OR (type = 'API_KEY_DELETED' AND payload->'deployments' @> jsonb_build_array(jsonb_build_object('id', $${n}::text))))`,
    );
  }
  return { where: where.join(' AND '), params };
}

/** A project's events matching `filter`, newest first, below `beforeRevision` when given, at most `limit`. */
export function filteredChangeRows(sql: Sql, filter: ChangeFilter, beforeRevision: number | null, limit: number): Promise<ChangeRow[]> {
  const { where, params } = changeFilterSql(filter);
  const before = beforeRevision === null ? '' : ` AND revision < $${params.push(beforeRevision)}`;
  return sql.query<ChangeRow>(
    `SELECT ${EVENT_COLUMNS} FROM change_events WHERE ${where}${before} ORDER BY revision DESC LIMIT $${params.push(limit)}`,
    params,
  );
}

/** How many of a project's retained events match `filter`. */
export async function countFilteredChanges(sql: Sql, filter: ChangeFilter): Promise<number> {
  const { where, params } = changeFilterSql(filter);
  const [row] = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM change_events WHERE ${where}`, params);
  return row?.n ?? 0;
}
