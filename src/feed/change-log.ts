// The change log as the feed sees it: recording an event inside a change's transaction, and what
// a consumer reads to catch up (events after a revision, a consistent snapshot). The SQL is in
// src/db/statements; here rows become the feed's events and states.
import type { PrismaClient, Tx } from '../db/database.ts';
import { sqlOfPrisma, type Sql } from '../db/sql.ts';
import {
  type ChangeFilter,
  type ChangeRow,
  changeRowsAfter,
  filteredChangeRows,
  deploymentStates,
  eachDeploymentPage,
  eachKeyPage,
  eachLinkText,
  snapshotProjectIds,
  headRevision,
  insertApiKeyAndRecord,
  insertChangeEvent,
  keyStateRows,
  type NewApiKeyRow,
  oldestRetainedRevision,
  type DeploymentSnapshotRow,
  type KeySnapshotRow,
  writeLinkAndRecord,
} from '../db/statements/index.ts';
import type { ChangeSource } from './follower.ts';
import { type ChangeEvent, type ChangePayload, type ChangeRecord, type ChangeType, type DeploymentState, type Snapshot, toKeyState } from './events.ts';

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
 * statement (with the change's link write, when it has one). Call it last in the transaction: the
 * revision counter stays locked until commit. Null when the link write changed nothing: no
 * revision, no event.
 */
export async function recordChange(tx: Tx, actor: string | null, change: ChangeRecord): Promise<ChangeEvent | null> {
  const sql = sqlOfPrisma(tx);
  const event = { projectId: change.projectId, type: change.type, actor, payload: change.payload, deploymentId: change.deploymentState ?? null };
  if (change.link) {
    if (!event.deploymentId) throw new Error('a link change names its deployment (deploymentState)');
    const linked = await writeLinkAndRecord(sql, { ...event, deploymentId: event.deploymentId }, change.link.apiKeyId, change.link.linkedAt);
    if (!linked.written) return null;
    if (!linked.event) throw missingCounter();
    return checkedEvent(linked.event, change);
  }
  const row = await insertChangeEvent(sql, event);
  if (!row) throw missingCounter();
  return checkedEvent(row, change);
}

const missingCounter = () => new Error('feed_state row is missing: the database was not migrated by keygate');

function checkedEvent(row: ChangeRow, change: ChangeRecord): ChangeEvent {
  if (change.deploymentState && !(row.payload as ChangePayload).deployment) {
    throw new Error(`deployment ${change.deploymentState} vanished inside its own transaction`);
  }
  return toChangeEvent(row);
}

/**
 * Creates a key and records its creation, in one statement of its own (a ChangeStatement's):
 * nothing is written when the project does not exist (`projectFound`) or the name is taken
 * (`apiKey` null).
 */
export async function recordKeyCreation(sql: Sql, actor: string | null, key: NewApiKeyRow, change: ChangeRecord) {
  const created = await insertApiKeyAndRecord(sql, key, { projectId: change.projectId, type: change.type, actor, payload: change.payload, deploymentId: null });
  if (!created.counterFound || (created.apiKey && !created.event)) throw missingCounter();
  return { projectFound: created.projectFound, apiKey: created.apiKey, event: created.event && toChangeEvent(created.event) };
}

/** Events after `revision`, oldest first; `projectId` narrows to one project. */
export async function eventsAfter(sql: Sql, revision: number, options: { limit?: number; projectId?: string } = {}): Promise<ChangeEvent[]> {
  return (await changeRowsAfter(sql, revision, options.limit ?? 1000, options.projectId)).map(toChangeEvent);
}

/** The audit trail: a project's retained events matching `filter`, newest first, below `beforeRevision` when given. */
export async function eventsBefore(sql: Sql, filter: ChangeFilter, beforeRevision: number | null, limit: number): Promise<ChangeEvent[]> {
  return (await filteredChangeRows(sql, filter, beforeRevision, limit)).map(toChangeEvent);
}

/** The change log in the database as a consumer's ChangeSource. */
export function changeLogSource(sql: Sql): ChangeSource {
  return {
    head: () => headRevision(sql),
    eventsAfter: (revision, limit) => eventsAfter(sql, revision, { limit }),
    oldestRetained: () => oldestRetainedRevision(sql),
  };
}

/** A deployment's state as the proxy needs it, read inside the change's transaction. */
export async function readDeploymentState(tx: Tx, id: string): Promise<DeploymentState> {
  const [state] = await deploymentStates(sqlOfPrisma(tx), id);
  if (!state) throw new Error(`deployment ${id} vanished inside its own transaction`);
  return state;
}

/** Everything the proxy enforces and the revision it reflects, in one consistent read. */
export async function readSnapshot(sql: Sql): Promise<Snapshot> {
  return sql.consistentRead(async (q) => {
    const revision = await headRevision(q);
    const keys = await keyStateRows(q);
    const deployments = await deploymentStates(q);
    return { revision, apiKeys: keys.map(toKeyState), deployments };
  });
}

/** Where a streamed snapshot goes, a page at a time: keys, then deployments, then their links
 *  (as text: src/db/statements/snapshot.ts eachLinkText). */
export interface SnapshotSink {
  /** the project ids KeySnapshotRow.project counts, before any key */
  projectIds(ids: string[]): void;
  keyRows(rows: readonly KeySnapshotRow[]): void;
  deploymentRows(rows: readonly DeploymentSnapshotRow[]): void;
  linkText(links: string): void;
}

/**
 * The same picture as readSnapshot, in one consistent read, handed to `sink` a page at a time
 * (a cursor each for keys, deployments and links) so no more than a page of rows is in memory.
 * Resolves with the revision it reflects. `paging`: rows a page, heap pages a link text (tests).
 */
export async function streamSnapshot(sql: Sql, sink: SnapshotSink, paging: { rows?: number; linkPages?: number } = {}): Promise<number> {
  return sql.consistentRead(async (q) => {
    const revision = await headRevision(q);
    sink.projectIds(await snapshotProjectIds(q));
    await eachKeyPage(q, (rows) => sink.keyRows(rows), paging.rows);
    await eachDeploymentPage(q, (rows) => sink.deploymentRows(rows), paging.rows);
    await eachLinkText(q, (links) => sink.linkText(links), paging.linkPages);
    return revision;
  });
}

/** Deletes events older than the retention window, always keeping the newest one. */
export async function pruneChangeLog(prisma: PrismaClient, retentionHours: number): Promise<number> {
  const cutoff = new Date(Date.now() - retentionHours * 3_600_000);
  const { count } = await prisma.changeEvent.deleteMany({
    where: { at: { lt: cutoff }, revision: { lt: await headRevision(sqlOfPrisma(prisma)) } },
  });
  return count;
}
