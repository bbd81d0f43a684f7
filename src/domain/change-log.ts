// The change log in Postgres: taking a revision, recording an event, and the reads that let any
// consumer catch up (events after a revision, the head, a consistent snapshot).
import type { PrismaClient } from '../db/database.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import type { ChangeEvent, ChangePayload, ChangeType, DeploymentState, KeyState, Snapshot } from '../feed/events.ts';

export type Tx = Prisma.TransactionClient;

export interface ChangeRecord {
  projectId: string;
  type: ChangeType;
  payload: ChangePayload;
}

interface ChangeRow {
  revision: number;
  projectId: string;
  type: string;
  actor: string | null;
  at: Date;
  payload: unknown;
}

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
 * Takes the next revision and records the event, inside the caller's transaction. The counter
 * row stays locked until commit, so commit order is revision order. Call it last in the
 * transaction: the lock is then held only for the commit.
 */
export async function recordChange(tx: Tx, actor: string | null, change: ChangeRecord): Promise<ChangeEvent> {
  const [row] = await tx.$queryRaw<{ revision: number }[]>`
    UPDATE feed_state SET revision = revision + 1 WHERE id = 1 RETURNING revision`;
  if (!row) throw new Error('feed_state row is missing: the database was not migrated by keygate');
  const event = await tx.changeEvent.create({
    data: {
      revision: row.revision,
      projectId: change.projectId,
      type: change.type,
      actor,
      payload: change.payload as Prisma.InputJsonValue,
    },
  });
  return toChangeEvent(event);
}

export async function headRevision(prisma: PrismaClient | Tx): Promise<number> {
  const state = await prisma.feedState.findUnique({ where: { id: 1 } });
  return state?.revision ?? 0;
}

/** Events after `revision`, oldest first; `projectId` narrows to one project. */
export async function eventsAfter(
  prisma: PrismaClient,
  revision: number,
  options: { limit?: number; projectId?: string } = {},
): Promise<ChangeEvent[]> {
  const rows = await prisma.changeEvent.findMany({
    where: { revision: { gt: revision }, ...(options.projectId ? { projectId: options.projectId } : {}) },
    orderBy: { revision: 'asc' },
    take: options.limit ?? 1000,
  });
  return rows.map(toChangeEvent);
}

/** The oldest revision still in the log; null when the log is empty. */
export async function oldestRetainedRevision(prisma: PrismaClient): Promise<number | null> {
  const row = await prisma.changeEvent.findFirst({ orderBy: { revision: 'asc' }, select: { revision: true } });
  return row?.revision ?? null;
}

/** Deletes events older than the retention window, always keeping the newest one. */
export async function pruneChangeLog(prisma: PrismaClient, retentionHours: number): Promise<number> {
  const cutoff = new Date(Date.now() - retentionHours * 3_600_000);
  const head = await headRevision(prisma);
  const { count } = await prisma.changeEvent.deleteMany({ where: { at: { lt: cutoff }, revision: { lt: head } } });
  return count;
}

const deploymentStateSelect = {
  id: true,
  projectId: true,
  name: true,
  upstreamUrl: true,
  authEnabled: true,
  project: { select: { slug: true } },
  links: { select: { apiKeyId: true } },
} as const;

type DeploymentStateRow = Prisma.DeploymentGetPayload<{ select: typeof deploymentStateSelect }>;

function toDeploymentState(d: DeploymentStateRow): DeploymentState {
  return {
    id: d.id,
    projectId: d.projectId,
    projectSlug: d.project.slug,
    name: d.name,
    upstreamUrl: d.upstreamUrl,
    authEnabled: d.authEnabled,
    apiKeyIds: d.links.map((l) => l.apiKeyId),
  };
}

/** A deployment's state as the proxy needs it, read inside the mutation's transaction. */
export async function readDeploymentState(tx: Tx, id: string): Promise<DeploymentState> {
  return toDeploymentState(await tx.deployment.findUniqueOrThrow({ where: { id }, select: deploymentStateSelect }));
}

export function toKeyState(k: { id: string; projectId: string; hash: string; expiresAt: Date | null }): KeyState {
  return { id: k.id, projectId: k.projectId, hash: k.hash, expiresAt: k.expiresAt?.toISOString() ?? null };
}

/** Everything the proxy enforces and the revision it reflects, in one consistent read. */
export async function readSnapshot(prisma: PrismaClient): Promise<Snapshot> {
  return prisma.$transaction(
    async (tx) => {
      const revision = await headRevision(tx);
      const [apiKeys, deployments] = await Promise.all([
        tx.apiKey.findMany({ select: { id: true, projectId: true, hash: true, expiresAt: true } }),
        tx.deployment.findMany({ select: deploymentStateSelect }),
      ]);
      return { revision, apiKeys: apiKeys.map(toKeyState), deployments: deployments.map(toDeploymentState) };
    },
    { isolationLevel: 'RepeatableRead', timeout: 60_000 },
  );
}
