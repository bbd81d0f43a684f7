// A deployment's linked key ids as one sorted array of the id strings the key entries hold: 8 bytes
// a link where a Set costs about 40, and at 2,000,000 links that is the difference. A request's
// check is a binary search (a handful of string comparisons, the last one usually between the same
// string object); a change replaces the whole set, a key's delete takes its id out in place.

/** What callers see of a deployment's linked key ids. */
export interface KeyIdSet extends Iterable<string> {
  has(id: string): boolean;
  readonly size: number;
}

export class LinkedKeys implements KeyIdSet {
  /** sorted, without duplicates */
  private readonly ids: string[];

  /** Takes ownership of `ids` (sorted and deduplicated here). */
  constructor(ids: string[]) {
    ids.sort();
    let kept = 0;
    for (let i = 0; i < ids.length; i++) if (kept === 0 || ids[i] !== ids[kept - 1]) ids[kept++] = ids[i]!;
    ids.length = kept;
    this.ids = ids;
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.indexOf(id) >= 0;
  }

  /** Takes one id out (a deleted key); returns whether it was there. */
  delete(id: string): boolean {
    const i = this.indexOf(id);
    if (i < 0) return false;
    this.ids.splice(i, 1);
    return true;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.ids[Symbol.iterator]();
  }

  private indexOf(id: string): number {
    const ids = this.ids;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = ids[mid]!;
      if (at === id) return mid;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
