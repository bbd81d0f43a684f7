// Garbage collection as a process started with --trace-gc reports it, one line per collection:
//   [pid:0x…]   176 ms: Scavenge 4.8 (5.6) -> 4.3 (6.6) MB, pooled: 0 MB, 17.41 / 0.00 ms  (…) allocation failure;
// Pauses are the first of the two times (the main thread stopped); what the program allocated
// between two collections is the heap before the later one minus the heap after the earlier one.
import type { Child } from './procs.ts';

const GC_LINE = /: (Scavenge|Minor Mark-Compact|Mark-Compact|Mark-Compact \(reduce\))[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

export interface GcSummary {
  collections: number;
  /** of them full (Mark-Compact) collections */
  fullCollections: number;
  pauseP99Ms: number;
  pauseMaxMs: number;
  pauseTotalMs: number;
  /** heap growth between collections, summed: what the program allocated (0.1 MB resolution each) */
  allocatedMb: number;
}

/** Collects the GC lines of `child` between start() and stop(). */
export function watchGc(child: Child): { start(): void; stop(): GcSummary } {
  let pauses: number[] = [];
  let full = 0;
  let allocated = 0;
  let lastAfter: number | null = null;
  let recording = false;
  child.onLine((line) => {
    const m = GC_LINE.exec(line);
    if (!m) return;
    const before = Number(m[2]);
    const after = Number(m[3]);
    if (recording) {
      pauses.push(Number(m[4]));
      if (m[1]!.startsWith('Mark-Compact')) full++;
      if (lastAfter !== null) allocated += Math.max(0, before - lastAfter);
    }
    lastAfter = after;
  });
  return {
    start() {
      pauses = [];
      full = 0;
      allocated = 0;
      recording = true;
    },
    stop() {
      recording = false;
      const sorted = [...pauses].sort((a, b) => a - b);
      return {
        collections: sorted.length,
        fullCollections: full,
        pauseP99Ms: sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? 0,
        pauseMaxMs: sorted[sorted.length - 1] ?? 0,
        pauseTotalMs: sorted.reduce((a, b) => a + b, 0),
        allocatedMb: allocated,
      };
    },
  };
}
