// The change log's statements: taking a revision and recording an event in one statement, and
// the reads that let a consumer catch up (the head, events after a revision, the oldest kept).
// Rows come back as stored; src/feed/change-log.ts turns them into the feed's events.
import type { Sql } from '../sql.ts';
import { DEPLOYMENT_STATES, GROUP_STATES } from './deployments.ts';

export interface ChangeRow {
  revision: number;
  projectId: string;
  type: string;
  actor: string | null;
  at: Date;
  payload: unknown;
}

const EVENT_COLUMNS = 'revision, project_id::text AS "projectId", type, actor, at, payload';

/**
 * Takes the next revision and records the event, in one statement. The counter row stays locked
 * until commit, so commit order is revision order: run it last in the caller's transaction, and
 * the lock is held only for the commit. With `deploymentId`, that deployment's state (as
 * deploymentStates reads it, after every write of the transaction) joins the payload as
 * `deployment`. Undefined: the feed_state row is missing.
 */
export async function insertChangeEvent(
  sql: Sql,
  event: { projectId: string; type: string; actor: string | null; payload: unknown; deploymentId: string | null },
): Promise<ChangeRow | undefined> {
  const [row] = await sql.query<ChangeRow>(
    `WITH next AS (UPDATE feed_state SET revision = revision + 1 WHERE id = 1 RETURNING revision)
     INSERT INTO change_events (revision, project_id, type, actor, at, payload)
     SELECT revision, $1::uuid, $2, $3, clock_timestamp(),
            $4::jsonb || COALESCE((SELECT jsonb_build_object('deployment', to_jsonb(s)) FROM (${DEPLOYMENT_STATES} WHERE d.id = $5::uuid ${GROUP_STATES}) s), '{}')
       FROM next
     RETURNING ${EVENT_COLUMNS}`,
    [event.projectId, event.type, event.actor, JSON.stringify(event.payload), event.deploymentId],
  );
  return row;
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
