// An open-addressing hash index over slot numbers, in one Int32Array: 8 bytes a key at most half
// full, nothing for the garbage collector to trace, no rehash of a million-entry Map while a
// snapshot loads. Linear probing; removal shifts the following cells back (no tombstones, so probe
// runs stay short whatever the churn). What a slot's hash is comes from `homeOf`; lookups walk
// `cells` from `start(hash)` themselves, comparing what they know how to compare.

export const EMPTY = 0; // cells hold slot + 1

export class SlotIndex {
  cells = new Int32Array(2048);
  private count = 0;

  /** `homeOf(slot)`: the slot's hash (any 32 bits; the low ones pick the cell). */
  constructor(private readonly homeOf: (slot: number) => number) {}

  get mask(): number {
    return this.cells.length - 1;
  }

  /** Indexes `slot`; a cell whose slot `replaces` says gives way to it (returns whether one did). */
  insert(slot: number, replaces?: (other: number) => boolean): boolean {
    if ((this.count + 1) * 2 > this.cells.length) this.resize(this.cells.length * 2);
    const cells = this.cells;
    const mask = cells.length - 1;
    for (let i = this.homeOf(slot) & mask; ; i = (i + 1) & mask) {
      const cell = cells[i]!;
      if (cell === EMPTY) {
        cells[i] = slot + 1;
        this.count++;
        return false;
      }
      if (replaces !== undefined && replaces(cell - 1)) {
        cells[i] = slot + 1;
        return true;
      }
    }
  }

  /** Takes `slot` out, if it is in. */
  remove(slot: number): void {
    const cells = this.cells;
    const mask = cells.length - 1;
    let i = this.homeOf(slot) & mask;
    for (; ; i = (i + 1) & mask) {
      const cell = cells[i]!;
      if (cell === EMPTY) return;
      if (cell === slot + 1) break;
    }
    cells[i] = EMPTY;
    this.count--;
    for (let j = (i + 1) & mask; cells[j] !== EMPTY; j = (j + 1) & mask) {
      const cell = cells[j]!;
      const home = this.homeOf(cell - 1) & mask;
      // The cell moves into the hole unless its home lies in the (cyclic) range (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        cells[i] = cell;
        cells[j] = EMPTY;
        i = j;
      }
    }
  }

  private resize(capacity: number): void {
    const old = this.cells;
    this.cells = new Int32Array(capacity);
    this.count = 0;
    for (const cell of old) if (cell !== EMPTY) this.insert(cell - 1);
  }
}

/** How many of an id's last characters its hash reads: a uuid's (v4 or v7) are random there. */
const HASHED_TAIL = 8;

/** FNV-1a over the last characters of a string (or of [start, end)) and its length: an id's hash
 *  for an index. Ids are uuids, random in their tail; reading only it cuts a snapshot's hashing. */
export function stringHash(s: string, start = 0, end = s.length): number {
  let h = Math.imul(0x811c9dc5 ^ (end - start), 16777619);
  for (let i = Math.max(start, end - HASHED_TAIL); i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Whether `a` is the same text as `s` in [start, end), without cutting it out of `s` (startsWith
 *  compares natively: fast even before the optimizing compiler has reached the caller). */
export function sameText(a: string, s: string, start: number, end: number): boolean {
  return a.length === end - start && s.startsWith(a, start);
}
