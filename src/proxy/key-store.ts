// The auth table's keys in columns (docs/architecture.md, "The auth table in memory"). A key is a
// slot number: its id and name are strings in arrays, its project id a pointer to one shared string,
// its SHA-256 32 bytes in one typed array, its expiry a float in another; the index by hash is an
// open-addressing table of slot numbers keyed by the digest's first bytes (already uniformly
// random). Per key that is about 200 bytes and no object of its own, where an object per key with
// a hex hash and two maps cost about 450 and kept the garbage collector busy with millions of small
// objects. The rare parts (a rotation's previous secret, rate limits) are in maps by slot.
// A KeyEntry is a copy of one slot's fields made when asked for: a change never alters an entry
// someone holds.
import type { Limits } from '../ratelimit/limiter.ts';
import { EMPTY, sameText, SlotIndex, stringHash } from './slot-index.ts';

export interface KeyEntry {
  readonly id: string;
  readonly projectId: string;
  /** for the access log; null when the event that carried the key predates names in events */
  readonly name: string | null;
  /** lowercase hex SHA-256 of the secret */
  readonly hash: string;
  /** epoch ms; Infinity: never expires. Parsed once here so the hot path compares numbers. */
  readonly expiresAtMs: number;
  /** during a rotation overlap, the previous secret's hash (also found by hash); null: none */
  readonly previousHash: string | null;
  /** epoch ms when the previous secret stops working (checked at request time); -Infinity: none */
  readonly previousExpiresAtMs: number;
  /** per-minute limits (docs/api.md, "Rate limits"); null: none */
  readonly rateLimit: Limits | null;
}

/** What a key is made of, parsed (times in epoch ms, the hash as given). */
export interface KeyFields {
  id: string;
  projectId: string;
  name: string | null;
  hash: string;
  expiresAtMs: number;
  /** during a rotation overlap; null: none */
  previous: { hash: string; expiresAtMs: number } | null;
  rateLimit: Limits | null;
}

/** A SHA-256 digest as 8 unsigned 32-bit words: how the index compares hashes. */
export type Digest = Uint32Array;

const WORDS = 8;

class Entry implements KeyEntry {
  constructor(
    readonly id: string,
    readonly projectId: string,
    readonly name: string | null,
    readonly hash: string,
    readonly expiresAtMs: number,
    readonly previousHash: string | null,
    readonly previousExpiresAtMs: number,
    readonly rateLimit: Limits | null,
  ) {}
}

export class KeyStore {
  private ids: (string | undefined)[] = [];
  private names: (string | null)[] = [];
  private projects: string[] = [];
  private idHashes = new Uint32Array(1024);
  private digests = new Uint32Array(1024 * WORDS);
  /** the same memory as bytes, for parseHex */
  private digestBytes = Buffer.from(this.digests.buffer);
  private expires = new Float64Array(1024);
  private readonly previous = new Map<number, { hash: string; expiresAtMs: number }>();
  /** previous secrets' lowercase hex hash → slot (rare: keys in a rotation overlap) */
  private readonly previousByHash = new Map<string, number>();
  private readonly limits = new Map<number, Limits>();
  private readonly free: number[] = [];
  private count = 0;
  private readonly byIdIndex = new SlotIndex((slot) => this.idHashes[slot]!);
  /** by the digest's first word (SHA-256 output: already uniform) */
  private readonly byDigestIndex = new SlotIndex((slot) => this.digests[slot * WORDS]!);
  private readonly scratch = newDigest();

  get size(): number {
    return this.count;
  }

  /** Puts a key in (in place of the one with its id). `isNew`: the caller knows no key has its id
   *  (a snapshot's rows, unique by the primary key), which saves a lookup. */
  put(key: KeyFields, isNew = false): void {
    const idHash = stringHash(key.id);
    let slot = isNew ? -1 : this.slotOf(key.id, idHash);
    if (slot >= 0) this.unindex(slot);
    else {
      slot = this.allocate();
      this.ids[slot] = key.id;
      this.idHashes[slot] = idHash;
      this.byIdIndex.insert(slot);
      this.count++;
    }
    this.names[slot] = key.name;
    this.projects[slot] = key.projectId;
    this.expires[slot] = key.expiresAtMs;
    if (key.rateLimit !== null) this.limits.set(slot, key.rateLimit);
    const at = slot * WORDS;
    if (parseHex(key.hash, this.digestBytes, at * 4)) this.byDigestIndex.insert(slot, (other) => sameDigest(this.digests, other * WORDS, at));
    else this.digests.fill(0, at, at + WORDS); // not a SHA-256: found by no secret
    if (key.previous !== null) {
      const previous = { hash: key.previous.hash.toLowerCase(), expiresAtMs: key.previous.expiresAtMs };
      this.previous.set(slot, previous);
      this.previousByHash.set(previous.hash, slot);
    }
  }

  /** Takes a key out; returns whether it was there. */
  remove(id: string): boolean {
    const slot = this.slotOf(id, stringHash(id));
    if (slot < 0) return false;
    this.unindex(slot);
    this.byIdIndex.remove(slot);
    this.ids[slot] = undefined;
    this.names[slot] = null;
    this.free.push(slot);
    this.count--;
    return true;
  }

  /** The id string the table holds for `id` (one copy of each id, shared by the linked sets); undefined: no such key. */
  idOf(id: string): string | undefined {
    const slot = this.slotOf(id, stringHash(id));
    return slot < 0 ? undefined : this.ids[slot];
  }

  /** idOf for the id written in `s` at [start, end) (a page of links), without cutting it out. */
  idIn(s: string, start: number, end: number): string | undefined {
    const h = stringHash(s, start, end);
    const cells = this.byIdIndex.cells;
    const mask = cells.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const cell = cells[i]!;
      if (cell === EMPTY) return undefined;
      if (this.idHashes[cell - 1] === h && sameText(this.ids[cell - 1]!, s, start, end)) return this.ids[cell - 1];
    }
  }

  /** A key's limits without making its entry (the rate limiter asks often); null: none or no such key. */
  rateLimitOf(id: string): Limits | null {
    const slot = this.slotOf(id, stringHash(id));
    return slot < 0 ? null : (this.limits.get(slot) ?? null);
  }

  byId(id: string): KeyEntry | undefined {
    const slot = this.slotOf(id, stringHash(id));
    return slot < 0 ? undefined : this.entry(slot, null);
  }

  /**
   * The key whose current or previous secret has this hash. `digest`, when the caller has it
   * (a connection's memo), saves parsing the hex again.
   */
  byHash(hash: string, digest?: Digest): KeyEntry | undefined {
    let d = digest;
    if (d === undefined) {
      if (!parseHex(hash, this.scratch.bytes, 0)) return undefined;
      d = this.scratch.words;
    }
    const lowercase = hash.length === 64 && !UPPERCASE_HEX.test(hash) ? hash : null;
    const slot = this.slotOfDigest(d);
    if (slot >= 0) return this.entry(slot, lowercase);
    const previous = this.previousByHash.get(lowercase ?? hash.toLowerCase());
    return previous === undefined ? undefined : this.entry(previous, null);
  }

  *entries(): IterableIterator<KeyEntry> {
    for (let slot = 0; slot < this.ids.length; slot++) if (this.ids[slot] !== undefined) yield this.entry(slot, null);
  }

  /** One slot's fields as an entry; `hash`: its current hash in hex when the caller has it. */
  private entry(slot: number, hash: string | null): KeyEntry {
    const previous = this.previous.get(slot);
    return new Entry(
      this.ids[slot]!,
      this.projects[slot]!,
      this.names[slot] ?? null,
      hash ?? toHex(this.digests, slot * WORDS),
      this.expires[slot]!,
      previous === undefined ? null : previous.hash,
      previous === undefined ? -Infinity : previous.expiresAtMs,
      this.limits.get(slot) ?? null,
    );
  }

  private slotOf(id: string, idHash: number): number {
    const cells = this.byIdIndex.cells;
    const mask = cells.length - 1;
    for (let i = idHash & mask; ; i = (i + 1) & mask) {
      const cell = cells[i]!;
      if (cell === EMPTY) return -1;
      if (this.idHashes[cell - 1] === idHash && this.ids[cell - 1] === id) return cell - 1;
    }
  }

  private slotOfDigest(d: Digest): number {
    const cells = this.byDigestIndex.cells;
    const mask = cells.length - 1;
    const digests = this.digests;
    for (let i = d[0]! & mask; ; i = (i + 1) & mask) {
      const cell = cells[i]!;
      if (cell === EMPTY) return -1;
      const at = (cell - 1) * WORDS;
      if (
        digests[at] === d[0] &&
        digests[at + 1] === d[1] &&
        digests[at + 2] === d[2] &&
        digests[at + 3] === d[3] &&
        digests[at + 4] === d[4] &&
        digests[at + 5] === d[5] &&
        digests[at + 6] === d[6] &&
        digests[at + 7] === d[7]
      ) {
        return cell - 1;
      }
    }
  }

  private allocate(): number {
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    const next = this.ids.length;
    if (next === this.expires.length) {
      this.expires = grown(this.expires, new Float64Array(next * 2));
      this.idHashes = grown(this.idHashes, new Uint32Array(next * 2));
      this.digests = grown(this.digests, new Uint32Array(next * 2 * WORDS));
      this.digestBytes = Buffer.from(this.digests.buffer);
    }
    this.ids.push(undefined);
    this.names.push(null);
    this.projects.push('');
    return next;
  }

  /** Takes a slot's hashes out of the lookups (where they still point at it) and its rare parts. */
  private unindex(slot: number): void {
    this.byDigestIndex.remove(slot);
    const previous = this.previous.get(slot);
    if (previous !== undefined) {
      if (this.previousByHash.get(previous.hash) === slot) this.previousByHash.delete(previous.hash);
      this.previous.delete(slot);
    }
    this.limits.delete(slot);
  }
}

function grown<T extends Float64Array | Uint32Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

function sameDigest(digests: Uint32Array, a: number, b: number): boolean {
  for (let k = 0; k < WORDS; k++) if (digests[a + k] !== digests[b + k]) return false;
  return true;
}

const UPPERCASE_HEX = /[A-F]/;

/** Writes a 64-character hex SHA-256 (either case) as its 32 bytes at `at` in `bytes` (a view of
 *  a digest array: byte order kept, so the words compare as the bytes do); false when it is not
 *  one. Node's hex decoder stops at the first character that is not hex. */
export function parseHex(hex: string, bytes: Buffer, at: number): boolean {
  return hex.length === 64 && bytes.write(hex, at, 32, 'hex') === 32;
}

/** A digest as words, and a byte view of it for parseHex. */
export function newDigest(): { words: Digest; bytes: Buffer } {
  const words = new Uint32Array(WORDS);
  return { words, bytes: Buffer.from(words.buffer) };
}

const HEX_DIGITS = '0123456789abcdef';

function toHex(words: Uint32Array, at: number): string {
  let hex = '';
  for (let w = 0; w < WORDS; w++) {
    const word = words[at + w]!;
    for (let b = 0; b < 4; b++) {
      const byte = (word >>> (b * 8)) & 255;
      hex += HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!;
    }
  }
  return hex;
}
