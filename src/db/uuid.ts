// Row ids for rows keygate inserts in raw SQL, made as Prisma makes them for `@default(uuid(7))`
// (the uuid package's v7, which Prisma's client bundles): RFC 9562 version 7, the time in
// milliseconds, then a 32-bit sequence that starts random each millisecond and counts up within it,
// then randomness. So ids sort by creation, within a millisecond too, whichever path made the row.
import { randomFillSync } from 'node:crypto';

const state = { msecs: -Infinity, seq: 0 };

/** A new version 7 UUID, in the canonical lower-case form. */
export function uuidV7(now = Date.now()): string {
  const r = randomFillSync(new Uint8Array(16));
  if (now > state.msecs) {
    state.seq = (r[6]! << 23) | (r[7]! << 16) | (r[8]! << 8) | r[9]!;
    state.msecs = now;
  } else {
    state.seq = (state.seq + 1) | 0;
    if (state.seq === 0) state.msecs++;
  }
  const { msecs, seq } = state;
  const b = new Uint8Array(16);
  b[0] = (msecs / 0x10000000000) & 0xff;
  b[1] = (msecs / 0x100000000) & 0xff;
  b[2] = (msecs / 0x1000000) & 0xff;
  b[3] = (msecs / 0x10000) & 0xff;
  b[4] = (msecs / 0x100) & 0xff;
  b[5] = msecs & 0xff;
  b[6] = 0x70 | ((seq >>> 28) & 0x0f);
  b[7] = (seq >>> 20) & 0xff;
  b[8] = 0x80 | ((seq >>> 14) & 0x3f);
  b[9] = (seq >>> 6) & 0xff;
  b[10] = ((seq << 2) & 0xff) | (r[10]! & 0x03);
  b.set(r.subarray(11), 11);
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
