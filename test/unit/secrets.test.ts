import { describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_PREFIX, API_KEY_PREFIX, hashSecret, isWellFormedSecret, issueSecret } from '../../src/domain/secrets.ts';

describe('secrets', () => {
  it('issues kg_ keys with ≥128 bits of base62 randomness and a checksum', () => {
    const { secret, hash, prefix } = issueSecret(API_KEY_PREFIX);
    expect(secret).toMatch(/^kg_[0-9A-Za-z]{30}$/);
    expect(24 * Math.log2(62)).toBeGreaterThan(128);
    expect(hash).toBe(hashSecret(secret));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(secret.startsWith(prefix)).toBe(true);
    expect(prefix.length).toBeLessThan(secret.length - 16);
    expect(isWellFormedSecret(API_KEY_PREFIX, secret)).toBe(true);
  });

  it('never issues the same secret twice in 10,000 draws', () => {
    const seen = new Set(Array.from({ length: 10_000 }, () => issueSecret(API_KEY_PREFIX).secret));
    expect(seen.size).toBe(10_000);
  });

  it('rejects near misses: any changed character breaks the checksum', () => {
    const { secret } = issueSecret(API_KEY_PREFIX);
    let rejected = 0;
    for (let i = API_KEY_PREFIX.length; i < secret.length; i++) {
      const c = secret[i] === 'a' ? 'b' : 'a';
      if (!isWellFormedSecret(API_KEY_PREFIX, secret.slice(0, i) + c + secret.slice(i + 1))) rejected++;
    }
    expect(rejected).toBe(secret.length - API_KEY_PREFIX.length);
  });

  it('rejects wrong shapes and the other kind of secret', () => {
    const token = issueSecret(ACCESS_TOKEN_PREFIX).secret;
    expect(isWellFormedSecret(ACCESS_TOKEN_PREFIX, token)).toBe(true);
    expect(isWellFormedSecret(API_KEY_PREFIX, token)).toBe(false);
    for (const bad of ['', 'kg_', 'kg_short', `kg_${'a'.repeat(31)}`, `KG_${'a'.repeat(30)}`, `kg_${'ä'.repeat(30)}`]) {
      expect(isWellFormedSecret(API_KEY_PREFIX, bad)).toBe(false);
    }
  });
});
