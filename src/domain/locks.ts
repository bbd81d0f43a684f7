// The row locks of a change. A mutation locks the rows it changes until commit, deployments before
// keys everywhere, so concurrent mutations of a row serialise and each event's state includes every
// earlier change. Each lock returns the locked row in the same statement.
//
// Why a linked set is never read in the locking statement: under READ COMMITTED, a statement that
// waited for a lock sees the locked row as of the lock's release, but everything else (joins,
// subqueries) as of the statement's start, before the wait. Links committed by the mutation that
// held the lock would be missing. Read them in a later statement of the transaction.
import type { Tx } from '../db/database.ts';
import { sqlOfPrisma } from '../db/sql.ts';
import { lockApiKeyRow, lockDeploymentRow } from '../db/statements/index.ts';
import type { ApiKey, Deployment } from '../generated/prisma/client.ts';

/**
 * Locks a deployment and returns its row; null when there is none. With `apiKeyId`, the key's row
 * comes along, unlocked (null: no such key); it reflects the statement's start, which is enough
 * for what a link checks of it (its project never changes) and shows.
 */
export function lockDeployment(tx: Tx, id: string, apiKeyId?: string): Promise<{ deployment: Deployment; apiKey: ApiKey | null } | null> {
  return lockDeploymentRow(sqlOfPrisma(tx), id, apiKeyId);
}

/** Locks deployments one by one in id order, so mutations that lock several never deadlock each other. */
export async function lockDeployments(tx: Tx, ids: string[]): Promise<void> {
  for (const id of [...ids].sort()) await lockDeployment(tx, id);
}

/** Locks an API key and returns its row; null when there is none. */
export function lockApiKey(tx: Tx, id: string): Promise<ApiKey | null> {
  return lockApiKeyRow(sqlOfPrisma(tx), id);
}
