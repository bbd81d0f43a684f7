// V8 settings for a process that serves the proxy, set once at start (before the first request).
//
// Allocation-site pretenuring is off. V8 moves an allocation site (an object or array literal) to
// the old generation once most of what it allocated outlived a few minor collections. A proxy
// holding many long-lived streams, each built from the same Node and keygate objects as a short
// request, gets dozens of per-request sites moved there: every short request's objects then die in
// the old generation, where only a full collection frees them, and meanwhile keep the young objects
// they point to alive through every minor collection, which in turn get their own sites moved.
// Measured with 2,000 idle streams open (bench/lifecycle.ts, --trace-gc): minor collections of
// 25–45 ms promoting ~9 MB each instead of 1–8 ms promoting nothing, and a third more CPU per short
// request; with pretenuring off the same load costs what it costs with no stream open.
import { setFlagsFromString } from 'node:v8';

export function tuneV8ForProxy(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
