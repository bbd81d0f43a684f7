// The change log in Postgres: taking a revision, recording an event, and the reads that let any
// consumer catch up (events after a revision, the head, a consistent snapshot).
import type { PrismaClient } from '../db/database.ts';
import { type Query, type Sql, sqlOfPrisma } from '../db/queries.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import type { ChangeEvent, ChangePayload, ChangeType, DeploymentState, KeyState, Snapshot } from '../feed/events.ts';

export type Tx = Prisma.TransactionClient;

export interface ChangeRecord {
  projectId: string;
  type: ChangeType;
  payload: ChangePayload;
  /**
   * A deployment whose resulting state, linked set included, becomes `payload.deployment`. It is
   * read by the statement that records the change, after every write of the transaction and
   * under the deployment's lock, so it is complete — and it costs no round trip of its own.
   */
  deploymentState?: string;
}

interface ChangeRow {
  revision: number;
  projectId: string;
  type: string;
  actor: string | null;
  at: Date;
  payload: unknown;
}

const EVENT_COLUMNS = 'revision, project_id::text AS "projectId", type, actor, at, payload';

// Deployments as the proxy needs them (DeploymentState), each with its full linked set; a WHERE
// clause goes between the two parts.
const DEPLOYMENT_STATES = `
  SELECT d.id::text AS id, d.project_id::text AS "projectId", p.slug AS "projectSlug", d.name,
         d.upstream_url AS "upstreamUrl", d.auth_enabled AS "authEnabled",
         COALESCE(array_agg(l.api_key_id::text ORDER BY l.api_key_id) FILTER (WHERE l.api_key_id IS NOT NULL), '{}') AS "apiKeyIds"
    FROM deployments d
    JOIN projects p ON p.id = d.project_id
    LEFT JOIN api_key_links l ON l.deployment_id = d.id`;
const GROUP_STATES = 'GROUP BY d.id, p.slug';

export function toChangeEvent(row: ChangeRow): ChangeEvent {
  return {
    revision: row.revision,
    projectId: row.projectId,
    type: row.type as ChangeType,
    actor: row.actor,
    at: row.at.toISOString(),
    payload: row.payload as ChangePayload,
  };
}

/**
 * Takes the next revision and records the event, inside the caller's transaction, in one
 * statement. The counter row stays locked until commit, so commit order is revision order. Call
 * it last in the transaction: the lock is then held only for the commit.
 */
export async function recordChange(tx: Tx, actor: string | null, change: ChangeRecord): Promise<ChangeEvent> {
  const [row] = await sqlOfPrisma(tx).query<ChangeRow>(
    `WITH next AS (UPDATE feed_state SET revision = revision + 1 WHERE id = 1 RETURNING revision)
     INSERT INTO change_events (revision, project_id, type, actor, at, payload)
     SELECT revision, $1::uuid, $2, $3, clock_timestamp(),
            $4::jsonb || COALESCE((SELECT jsonb_build_object('deployment', to_jsonb(s)) FROM (${DEPLOYMENT_STATES} WHERE d.id = $5::uuid ${GROUP_STATES}) s), '{}')
       FROM next
     RETURNING ${EVENT_COLUMNS}`,
    [change.projectId, change.type, actor, JSON.stringify(change.payload), change.deploymentState ?? null],
  );
  if (!row) throw new Error('feed_state row is missing: the database was not migrated by keygate');
  if (change.deploymentState && !(row.payload as ChangePayload).deployment) {
    throw new Error(`deployment ${change.deploymentState} vanished inside its own transaction`);
  }
  return toChangeEvent(row);
}

export async function headRevision(db: Query): Promise<number> {
  const [row] = await db.query<{ revision: number }>('SELECT revision FROM feed_state WHERE id = 1');
  return row?.revision ?? 0;
}

/** Events after `revision`, oldest first; `projectId` narrows to one project. */
export async function eventsAfter(db: Query, revision: number, options: { limit?: number; projectId?: string } = {}): Promise<ChangeEvent[]> {
  const limit = options.limit ?? 1000;
  const rows = options.projectId
    ? await db.query<ChangeRow>(
        `SELECT ${EVENT_COLUMNS} FROM change_events WHERE revision > $1 AND project_id = $2::uuid ORDER BY revision LIMIT $3`,
        [revision, options.projectId, limit],
      )
    : await db.query<ChangeRow>(`SELECT ${EVENT_COLUMNS} FROM change_events WHERE revision > $1 ORDER BY revision LIMIT $2`, [revision, limit]);
  return rows.map(toChangeEvent);
}

/** The oldest revision still in the log; null when the log is empty. */
export async function oldestRetainedRevision(db: Query): Promise<number | null> {
  const [row] = await db.query<{ revision: number | null }>('SELECT min(revision) AS revision FROM change_events');
  return row?.revision ?? null;
}

/** Deletes events older than the retention window, always keeping the newest one. */
export async function pruneChangeLog(prisma: PrismaClient, retentionHours: number): Promise<number> {
  const cutoff = new Date(Date.now() - retentionHours * 3_600_000);
  const { count } = await prisma.changeEvent.deleteMany({
    where: { at: { lt: cutoff }, revision: { lt: await headRevision(sqlOfPrisma(prisma)) } },
  });
  return count;
}

/** Deployments' states, all or one; one statement. */
function deploymentStates(db: Query, id?: string): Promise<DeploymentState[]> {
  return id
    ? db.query<DeploymentState>(`${DEPLOYMENT_STATES} WHERE d.id = $1::uuid ${GROUP_STATES}`, [id])
    : db.query<DeploymentState>(`${DEPLOYMENT_STATES} ${GROUP_STATES}`);
}

/** A deployment's state as the proxy needs it, read inside the mutation's transaction. */
export async function readDeploymentState(tx: Tx, id: string): Promise<DeploymentState> {
  const [state] = await deploymentStates(sqlOfPrisma(tx), id);
  if (!state) throw new Error(`deployment ${id} vanished inside its own transaction`);
  return state;
}

export function toKeyState(k: { id: string; projectId: string; name: string; hash: string; expiresAt: Date | null }): KeyState {
  return { id: k.id, projectId: k.projectId, name: k.name, hash: k.hash, expiresAt: k.expiresAt?.toISOString() ?? null };
}

/** Everything the proxy enforces and the revision it reflects, in one consistent read. */
export async function readSnapshot(db: Sql): Promise<Snapshot> {
  return db.consistentRead(async (q) => {
    const revision = await headRevision(q);
    const keys = await q.query<{ id: string; projectId: string; name: string; hash: string; expiresAt: Date | null }>(
      'SELECT id::text AS id, project_id::text AS "projectId", name, hash, expires_at AS "expiresAt" FROM api_keys',
    );
    const deployments = await deploymentStates(q);
    return { revision, apiKeys: keys.map(toKeyState), deployments };
  });
}
