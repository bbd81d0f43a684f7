// The change feed's message: one committed ChangeEvent row, as published on Redis or the
// in-process bus. The payload holds the resulting state of what the mutation touched, so a
// proxy applies it without another query. It carries key hashes, never secrets, and is never
// shown to GraphQL clients as is.
import type { KeyStateRow } from '../db/statements/api-keys.ts';
import type { DeploymentStateRow } from '../db/statements/deployments.ts';

export const CHANGE_TYPES = [
  'API_KEY_CREATED',
  'API_KEY_UPDATED',
  'API_KEY_DELETED',
  'API_KEY_EXPIRED',
  'API_KEY_ROTATED',
  'API_KEY_EXPIRING',
  'DEPLOYMENT_CREATED',
  'DEPLOYMENT_UPDATED',
  'DEPLOYMENT_DELETED',
  'API_KEY_LINKED',
  'API_KEY_UNLINKED',
  'DEPLOYMENT_AUTH_CHANGED',
] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** What the proxy needs of a key. */
export interface KeyState {
  id: string;
  projectId: string;
  /** the key's name, for the proxy's access log; absent in events recorded before it was added */
  name?: string;
  hash: string;
  /** ISO date-time; null: never expires */
  expiresAt: string | null;
  /** during a rotation overlap, the previous secret's hash; null or absent: none */
  previousHash?: string | null;
  /** ISO date-time when the previous secret stops working; null or absent: no overlap */
  previousExpiresAt?: string | null;
  /** per-minute limits (docs/api.md, "Rate limits"); absent or null: none (events before 0.2 lack it) */
  rateLimit?: RateLimitState | null;
}

/** A key's limits per 60-second window; null: no limit of that kind. */
export interface RateLimitState {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

/**
 * What the proxy needs of a deployment, with its full linked set. It is read in SQL (the snapshot,
 * and inside the statement that records a change), so its fields are the columns that
 * src/db/statements/deployments.ts selects: add a field there.
 */
export type DeploymentState = DeploymentStateRow;

export interface ChangePayload {
  /** the key the event is about */
  apiKeyId?: string;
  /** the deployment the event is about */
  deploymentId?: string;
  /** the key's state after the change; absent when deleted */
  apiKey?: KeyState;
  /** the deployment's state after the change; absent when deleted */
  deployment?: DeploymentState;
  /** deployments whose linked set changed as a side effect (a forced key delete) */
  deployments?: DeploymentState[];
  deleted?: boolean;
}

export interface ChangeEvent {
  revision: number;
  projectId: string;
  type: ChangeType;
  actor: string | null;
  /** ISO date-time of the commit */
  at: string;
  payload: ChangePayload;
}

/** A consistent picture of everything the proxy enforces, as of `revision`. */
export interface Snapshot {
  revision: number;
  apiKeys: KeyState[];
  deployments: DeploymentState[];
}

/** What a change records, handed to the recorder by the rule that made it. */
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
  /**
   * A link of `deploymentState` to write in the statement that records the change: linked when
   * `linkedAt` is given, unlinked when null. When the write changes nothing (the link was already
   * so), no revision is taken and the change counts as none.
   */
  link?: { apiKeyId: string; linkedAt: Date | null };
}

/** A key's row as the proxy needs it: the one place a KeyState is made. */
export function toKeyState(k: KeyStateRow): KeyState {
  const state: KeyState = {
    id: k.id,
    projectId: k.projectId,
    name: k.name,
    hash: k.hash,
    expiresAt: k.expiresAt?.toISOString() ?? null,
    previousHash: k.previousHash,
    previousExpiresAt: k.previousExpiresAt?.toISOString() ?? null,
  };
  const requestsPerMinute = k.rateLimitRequests ?? null;
  const tokensPerMinute = k.rateLimitTokens ?? null;
  if (requestsPerMinute !== null || tokensPerMinute !== null) state.rateLimit = { requestsPerMinute, tokensPerMinute };
  return state;
}
