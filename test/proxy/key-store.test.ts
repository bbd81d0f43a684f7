import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type KeyFields, KeyStore, newDigest, parseHex } from '../../src/proxy/key-store.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const key = (id: string, hash: string, extra: Partial<KeyFields> = {}): KeyFields => ({
  id,
  projectId: 'p',
  name: `${id}-name`,
  hash,
  expiresAtMs: Infinity,
  previous: null,
  rateLimit: null,
  ...extra,
});

describe('KeyStore', () => {
  it('finds keys by hash and id through puts, replacements and removals (against a Map)', () => {
    const store = new KeyStore();
    const model = new Map<string, string>(); // id → hash
    let seed = 1;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let step = 0; step < 20_000; step++) {
      const id = `k${Math.floor(random() * 3000)}`;
      const roll = random();
      if (roll < 0.6) {
        const hash = sha(`${id}-${step}`);
        store.put(key(id, hash));
        model.set(id, hash);
      } else if (model.has(id)) {
        expect(store.remove(id)).toBe(true);
        model.delete(id);
      } else {
        expect(store.remove(id)).toBe(false);
      }
    }
    expect(store.size).toBe(model.size);
    for (const [id, hash] of model) {
      expect(store.byHash(hash)?.id).toBe(id);
      expect(store.byId(id)?.hash).toBe(hash);
    }
    // Hashes no key holds any more are found by nothing.
    for (let step = 0; step < 2000; step++) expect(store.byHash(sha(`gone-${step}`))).toBeUndefined();
    expect(new Set([...store.entries()].map((k) => k.id))).toEqual(new Set(model.keys()));
  });

  it('keeps a slot’s fields, a previous secret and limits, and reuses a removed key’s slot', () => {
    const store = new KeyStore();
    const [a, b, c] = [sha('a'), sha('b'), sha('c')];
    store.put(key('k1', a.toUpperCase(), { expiresAtMs: 1000, previous: { hash: b, expiresAtMs: 500 }, rateLimit: { requestsPerMinute: 5, tokensPerMinute: null } }));
    expect(store.byHash(a)).toMatchObject({ id: 'k1', hash: a, expiresAtMs: 1000, previousHash: b, previousExpiresAtMs: 500, rateLimit: { requestsPerMinute: 5 } });
    expect(store.byHash(b)?.id).toBe('k1');
    expect(store.rateLimitOf('k1')).toEqual({ requestsPerMinute: 5, tokensPerMinute: null });
    store.put(key('k1', c));
    expect(store.rateLimitOf('k1')).toBeNull();
    expect(store.byHash(a)).toBeUndefined();
    expect(store.byHash(b)).toBeUndefined();
    expect(store.byHash(c)).toMatchObject({ id: 'k1', previousHash: null, previousExpiresAtMs: -Infinity, rateLimit: null });
    store.remove('k1');
    store.put(key('k2', a));
    expect(store.byHash(c)).toBeUndefined();
    expect(store.byId('k2')?.name).toBe('k2-name');
    expect(store.size).toBe(1);
  });

  it('indexes only what is a SHA-256 in hex', () => {
    const store = new KeyStore();
    store.put(key('bad', 'not a hash'));
    expect(store.byId('bad')).toBeDefined();
    expect(store.byHash('not a hash')).toBeUndefined();
    const digest = newDigest();
    expect(parseHex('g'.repeat(64), digest.bytes, 0)).toBe(false);
    expect(parseHex(`${sha('x').slice(0, 63)}g`, digest.bytes, 0)).toBe(false);
    expect(parseHex(sha('x').toUpperCase(), digest.bytes, 0)).toBe(true);
    expect(Buffer.from(digest.words.buffer).toString('hex')).toBe(sha('x'));
  });
});
