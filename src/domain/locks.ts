// The row locks of a change. A mutation locks the rows it changes until commit, deployments before
// keys everywhere, so concurrent mutations of a row serialise and each event's state includes every
// earlier change. Each lock returns the locked row in the same statement.
//
// Why a linked set is never read in the locking statement: under READ COMMITTED, a statement that
// waited for a lock sees the locked row as of the lock's release, but everything else (joins,
// subqueries) as of the statement's start, before the wait. Links committed by the mutation that
// held the lock would be missing. Read them in a later statement of the transaction.
import { API_KEY_COLUMNS, DEPLOYMENT_COLUMNS, pickRow, selectList } from '../db/rows.ts';
import { sqlOfPrisma } from '../db/queries.ts';
import type { ApiKey, Deployment } from '../generated/prisma/client.ts';
import type { Tx } from './change-log.ts';

const KEY_PREFIX = 'key.';

/**
 * Locks a deployment and returns its row; null when there is none. With `apiKeyId`, the key's row
 * comes along, unlocked (null: no such key); it reflects the statement's start, which is enough
 * for what a link checks of it (its project never changes) and shows.
 */
export async function lockDeployment(
  tx: Tx,
  id: string,
  apiKeyId?: string,
): Promise<{ deployment: Deployment; apiKey: ApiKey | null } | null> {
  const withKey = apiKeyId !== undefined;
  const [row] = await sqlOfPrisma(tx).query<Record<string, unknown>>(
    `SELECT ${selectList(DEPLOYMENT_COLUMNS, 'd')}${withKey ? `, ${selectList(API_KEY_COLUMNS, 'k', KEY_PREFIX)}` : ''}
       FROM deployments d ${withKey ? 'LEFT JOIN api_keys k ON k.id = $2::uuid' : ''}
      WHERE d.id = $1::uuid
      FOR UPDATE OF d`,
    withKey ? [id, apiKeyId] : [id],
  );
  const deployment = row && pickRow(row, DEPLOYMENT_COLUMNS);
  if (!deployment) return null;
  return { deployment, apiKey: withKey ? pickRow(row, API_KEY_COLUMNS, KEY_PREFIX) : null };
}

/** Locks deployments one by one in id order, so mutations that lock several never deadlock each other. */
export async function lockDeployments(tx: Tx, ids: string[]): Promise<void> {
  for (const id of [...ids].sort()) await lockDeployment(tx, id);
}

/** Locks an API key and returns its row; null when there is none. */
export async function lockApiKey(tx: Tx, id: string): Promise<ApiKey | null> {
  const [row] = await sqlOfPrisma(tx).query<Record<string, unknown>>(
    `SELECT ${selectList(API_KEY_COLUMNS, 'k')} FROM api_keys k WHERE k.id = $1::uuid FOR UPDATE`,
    [id],
  );
  return row ? pickRow(row, API_KEY_COLUMNS) : null;
}
