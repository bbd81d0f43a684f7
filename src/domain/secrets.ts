// Secret format shared by API keys (kg_) and access tokens (kgat_): the prefix, 24 base62
// characters of CSPRNG randomness (~143 bits) and a 6-character base62 CRC-32 checksum, so secret
// scanners recognise them and malformed ones are rejected before any lookup.
import { hash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 24;
const CHECKSUM_CHARS = 6;
/** How many leading characters of a secret are stored and shown as its prefix. */
const DISPLAY_PREFIX_CHARS = 8;

export const API_KEY_PREFIX = 'kg_';
/** Length of every API key: the prefix, the random characters and the checksum. */
export const API_KEY_LENGTH = API_KEY_PREFIX.length + RANDOM_CHARS + CHECKSUM_CHARS;
export const ACCESS_TOKEN_PREFIX = 'kgat_';
type SecretPrefix = typeof API_KEY_PREFIX | typeof ACCESS_TOKEN_PREFIX;

function base62(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

const checksum = (body: string) => base62(crc32(body), CHECKSUM_CHARS);

export interface IssuedSecret {
  /** shown to the user once, never stored */
  secret: string;
  /** SHA-256 of the secret, hex: what is stored and looked up */
  hash: string;
  /** safe to display: the secret's first characters */
  prefix: string;
}

export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex'); // one-shot: about half the time of createHash().update().digest()
}

export function issueSecret(prefix: SecretPrefix): IssuedSecret {
  let body = '';
  for (let i = 0; i < RANDOM_CHARS; i++) body += BASE62[randomInt(62)];
  const secret = `${prefix}${body}${checksum(prefix + body)}`;
  return { secret, hash: hashSecret(secret), prefix: secret.slice(0, prefix.length + DISPLAY_PREFIX_CHARS) };
}

const SHAPES: Record<SecretPrefix, RegExp> = {
  [API_KEY_PREFIX]: new RegExp(`^${API_KEY_PREFIX}[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`),
  [ACCESS_TOKEN_PREFIX]: new RegExp(`^${ACCESS_TOKEN_PREFIX}[0-9A-Za-z]{${RANDOM_CHARS + CHECKSUM_CHARS}}$`),
};

/** True when the string has the secret's shape and its checksum matches. Cheap: no lookup. */
export function isWellFormedSecret(prefix: SecretPrefix, value: string): boolean {
  if (!SHAPES[prefix].test(value)) return false;
  const split = value.length - CHECKSUM_CHARS;
  return checksum(value.slice(0, split)) === value.slice(split);
}
