// Where a key is checked on a request: the hot path, one fixed order of checks, a typed result,
// no throw, no I/O. Every refusal of a presented key is the same invalid_api_key, so a caller
// learns nothing about which check failed; the reason goes to metrics and logs only.
import { API_KEY_PREFIX, hashSecret, isWellFormedSecret } from '../domain/secrets.ts';
import type { AuthTable, DeploymentEntry, KeyEntry } from './auth-table.ts';
import { type Digest, newDigest, parseHex } from './key-store.ts';
import { readCredentials } from './credentials.ts';

/** Why a request was refused (docs/operations.md, "Metrics"), for metrics and logs; the client gets
 *  one invalid_api_key body (or missing_api_key, or the 429) whatever the reason. rotated_out: the
 *  previous secret of a rotation after its overlap ended; rate_limited comes with rate limits. */
export const REFUSAL_REASONS = ['missing', 'malformed', 'unknown', 'not_linked', 'expired', 'rotated_out', 'other_project', 'rate_limited'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export type AuthResult =
  /** key null: the deployment is open; viaPrevious: admitted with the previous secret of a rotation
   *  overlap (such a request is cut when the overlap ends) */
  | { readonly ok: true; readonly key: KeyEntry | null; readonly viaPrevious: boolean }
  | {
      readonly ok: false;
      readonly status: 401;
      readonly code: 'missing_api_key' | 'invalid_api_key';
      readonly reason: RefusalReason;
      /** the key presented, when it is a known one (for the operator's log, never the client) */
      readonly key: KeyEntry | null;
    };

const OPEN: AuthResult = Object.freeze({ ok: true, key: null, viaPrevious: false });
const MISSING: AuthResult = Object.freeze({ ok: false, status: 401, code: 'missing_api_key', reason: 'missing', key: null });
const MALFORMED: AuthResult = Object.freeze({ ok: false, status: 401, code: 'invalid_api_key', reason: 'malformed', key: null });
const UNKNOWN: AuthResult = Object.freeze({ ok: false, status: 401, code: 'invalid_api_key', reason: 'unknown', key: null });
const refused = (reason: RefusalReason, key: KeyEntry): AuthResult => ({ ok: false, status: 401, code: 'invalid_api_key', reason, key });

/** The key last presented on one client connection and its hash (null: malformed). A keep-alive
 *  client sends the same key with every request, so its checksum and SHA-256 are computed once per
 *  connection; every check that can change (lookup, project, link, expiry) still runs each time.
 *  It lives as long as the connection, whose requests carried the secret anyway. */
export class KeyMemo {
  secret = '';
  hash: string | null = null;
  /** the same hash as the table's index compares it (words, and their bytes) */
  readonly digest: { readonly words: Digest; readonly bytes: Buffer } = newDigest();
}

export function authorizeRequest(
  table: AuthTable,
  deployment: DeploymentEntry,
  rawHeaders: readonly string[],
  nowMs: number,
  memo: KeyMemo = new KeyMemo(),
): AuthResult {
  if (!deployment.authEnabled) return OPEN;

  const credentials = readCredentials(rawHeaders);
  if (credentials.kind === 'none') return MISSING;
  if (credentials.kind !== 'key') return MALFORMED; // duplicated header, Basic, a non-keygate Bearer

  const hash = hashOf(credentials.secret, memo);
  if (hash === null) return MALFORMED;

  const key = table.findKeyByHash(hash, memo.digest.words);
  if (key === undefined) return UNKNOWN; // unknown or deleted
  // The lookup also finds a key by the previous secret of a rotation; its end is checked here, at
  // request time like expiry, so it stops on the dot with no event.
  const viaPrevious = hash !== key.hash;
  if (viaPrevious && key.previousExpiresAtMs <= nowMs) return refused('rotated_out', key);
  if (key.projectId !== deployment.projectId) return refused('other_project', key);
  if (!deployment.keyIds.has(key.id)) return refused('not_linked', key);
  if (key.expiresAtMs <= nowMs) return refused('expired', key);

  return { ok: true, key, viaPrevious };
}

function hashOf(secret: string, memo: KeyMemo): string | null {
  if (sameSecret(secret, memo.secret)) return memo.hash;
  // The checksum rejects typos and garbage before any hashing or lookup.
  memo.hash = isWellFormedSecret(API_KEY_PREFIX, secret) ? hashSecret(secret) : null;
  if (memo.hash !== null) parseHex(memo.hash, memo.digest.bytes, 0);
  memo.secret = secret;
  return memo.hash;
}

/** Compares every character whatever the first difference, so the time taken says nothing about
 *  the key an earlier request on the same connection (a multiplexing load balancer's) carried. */
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
