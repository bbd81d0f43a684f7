// Where a key is checked on a request: the hot path, one fixed order of checks, a typed result,
// no throw, no I/O. Every refusal of a presented key is the same invalid_api_key, so a caller
// learns nothing about which check failed.
import { API_KEY_PREFIX, hashSecret, isWellFormedSecret } from '../domain/secrets.ts';
import type { AuthTable, DeploymentEntry } from './auth-table.ts';
import { readCredentials } from './credentials.ts';

export type AuthResult =
  /** keyId null: the deployment is open */
  | { readonly ok: true; readonly keyId: string | null }
  | { readonly ok: false; readonly status: 401; readonly code: 'missing_api_key' | 'invalid_api_key' };

const OPEN: AuthResult = Object.freeze({ ok: true, keyId: null });
const MISSING: AuthResult = Object.freeze({ ok: false, status: 401, code: 'missing_api_key' });
const INVALID: AuthResult = Object.freeze({ ok: false, status: 401, code: 'invalid_api_key' });

export function authorizeRequest(
  table: AuthTable,
  deployment: DeploymentEntry,
  rawHeaders: readonly string[],
  nowMs: number,
): AuthResult {
  if (!deployment.authEnabled) return OPEN;

  const credentials = readCredentials(rawHeaders);
  if (credentials.kind === 'none') return MISSING;
  if (credentials.kind !== 'key') return INVALID; // duplicated header, Basic, a non-keygate Bearer

  // The checksum rejects typos and garbage before any hashing or lookup.
  if (!isWellFormedSecret(API_KEY_PREFIX, credentials.secret)) return INVALID;

  const key = table.findKeyByHash(hashSecret(credentials.secret));
  if (key === undefined) return INVALID; // unknown or deleted
  if (key.projectId !== deployment.projectId) return INVALID;
  if (!deployment.keyIds.has(key.id)) return INVALID; // not linked
  if (key.expiresAtMs <= nowMs) return INVALID;

  return { ok: true, keyId: key.id };
}
