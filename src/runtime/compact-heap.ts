// A compacting garbage collection on request. Building a large auth table leaves the heap grown
// to hold the snapshot's rows while they were read (a million-key table: about 550 MB committed
// around 230 MB in use); V8 keeps that memory until its memory reducer notices the process is
// idle, which a proxy under traffic may never be. After a large snapshot the proxy asks for the
// collection V8 runs before giving up on an allocation ("last resort": compacts and releases
// pages), once, before it reports ready (or, on a reload, in one pause it measures and logs).
// V8 offers it to JavaScript only as the `gc` extension, so the flag is set here and the function
// taken from a fresh context; where that is not possible it does nothing.
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gc: Gc | null | undefined;

/** Runs a compacting full collection; returns false when the runtime does not allow it. */
export function compactHeap(): boolean {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as Gc;
    } catch {
      gc = null;
    }
  }
  if (gc === null) return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}
