// Where a request carries its keygate key: X-API-Key, else "Authorization: Bearer kg_…".
// Reads rawHeaders because Node joins duplicate X-API-Key values with ", " and silently keeps only
// the first Authorization header, and a duplicated header must be refused, not guessed at.
import { API_KEY_LENGTH, API_KEY_PREFIX, isWellFormedSecret } from '../domain/secrets.ts';

export type Credentials =
  | { kind: 'key'; secret: string }
  /** nothing that could be a key */
  | { kind: 'none' }
  /** two of the header that is read: refused rather than picking one */
  | { kind: 'duplicated' }
  /** an Authorization that is not a keygate key (Basic, another Bearer): the upstream's business */
  | { kind: 'foreign' };

const NONE: Credentials = { kind: 'none' };
const DUPLICATED: Credentials = { kind: 'duplicated' };
const FOREIGN: Credentials = { kind: 'foreign' };

/** rawHeaders is Node's flat [name, value, name, value, …] list, names as sent. */
export function readCredentials(rawHeaders: readonly string[]): Credentials {
  let apiKey: string | undefined;
  let apiKeyCount = 0;
  let authorization: string | undefined;
  let authorizationCount = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // Length first: most headers are ruled out without lowercasing anything.
    if (name.length === 9 && name.toLowerCase() === 'x-api-key') {
      const value = rawHeaders[i + 1]!.trim();
      if (value === '') continue; // an empty X-API-Key counts as absent
      apiKeyCount++;
      apiKey = value;
    } else if (name.length === 13 && name.toLowerCase() === 'authorization') {
      authorizationCount++;
      authorization = rawHeaders[i + 1]!;
    }
  }
  if (apiKeyCount > 1) return DUPLICATED;
  if (apiKey !== undefined) return { kind: 'key', secret: apiKey };
  if (authorizationCount > 1) return DUPLICATED;
  if (authorization === undefined) return NONE;
  const token = keygateBearer(authorization);
  return token === null ? FOREIGN : { kind: 'key', secret: token };
}

const BEARER = /^\s*bearer\s+(\S+)\s*$/i;

/** The token of "Bearer kg_…", or null for any other Authorization value. */
export function keygateBearer(authorization: string): string | null {
  const m = BEARER.exec(authorization);
  const token = m?.[1];
  return token !== undefined && token.startsWith(API_KEY_PREFIX) ? token : null;
}

const BASIC = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i;

/** Whether an Authorization value carries a keygate key, so the upstream must not get it: a
 *  keygate Bearer, or a well-formed key (checksum verified, so another token is not mistaken for
 *  one) sent bare, under another scheme, with trailing text, or inside Basic credentials. */
export function carriesKeygateKey(authorization: string): boolean {
  if (keygateBearer(authorization) !== null) return true;
  if (hasWellFormedKey(authorization)) return true;
  const basic = BASIC.exec(authorization)?.[1];
  return basic !== undefined && hasWellFormedKey(Buffer.from(basic, 'base64').toString('latin1'));
}

/** A whole key anywhere in `text`, at every position (so "kg_xx…kg_<key>" cannot hide one). */
function hasWellFormedKey(text: string): boolean {
  for (let i = text.indexOf(API_KEY_PREFIX); i !== -1; i = text.indexOf(API_KEY_PREFIX, i + 1)) {
    if (isWellFormedSecret(API_KEY_PREFIX, text.slice(i, i + API_KEY_LENGTH))) return true;
  }
  return false;
}
