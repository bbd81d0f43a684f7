// Usage read for a range and kept current: read once, then every usageUpdates event of the project
// is added in (usage-live.ts). Updates that arrive while the read is on its way are added only if
// they end after the read's `to` (the read already holds the others); after a reconnect the range
// is read again.
import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from './graphql.ts';
import type { UsageRange } from './usage.ts';
import { followUsage, type UsageUpdate } from './usage-live.ts';

export interface LiveUsage<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

export interface LiveUsageSource<T> {
  /** reads the range; `to` is the end of what it covers (UsageSeries.to) */
  read: (from: string, range: UsageRange) => Promise<{ data: T; to: string } | null>;
  /** the data with one update added (or the same data when it does not concern it) */
  apply: (data: T, update: UsageUpdate) => T;
}

/** `readKey` names what is read (e.g. a key's id): a new one reads again. */
export function useLiveUsage<T>(projectId: string | null, range: UsageRange, readKey: string, source: LiveUsageSource<T>): LiveUsage<T> {
  const [state, setState] = useState<LiveUsage<T>>({ data: null, error: null, loading: true });
  const sourceRef = useRef(source);
  sourceRef.current = source;

  useEffect(() => {
    if (!projectId) return;
    let generation = 0;
    let pending: UsageUpdate[] | null = null; // updates that came while a read was on its way
    const read = () => {
      const mine = ++generation;
      pending = [];
      setState((s) => ({ ...s, loading: true }));
      sourceRef.current.read(new Date(Date.now() - range.ms).toISOString(), range).then(
        (result) => {
          if (mine !== generation) return;
          const late = pending ?? [];
          pending = null;
          if (!result) return setState({ data: null, error: 'Not found', loading: false });
          const end = Date.parse(result.to);
          const data = late.filter((u) => Date.parse(u.at) > end).reduce(sourceRef.current.apply, result.data);
          setState({ data, error: null, loading: false });
        },
        (e: unknown) => {
          if (mine !== generation) return;
          pending = null;
          setState((s) => ({ ...s, error: messageOf(e), loading: false }));
        },
      );
    };
    const stop = followUsage(projectId, {
      onUpdate: (update) => {
        if (pending) pending.push(update);
        else setState((s) => (s.data === null ? s : { ...s, data: sourceRef.current.apply(s.data, update) }));
      },
      onResync: read,
    });
    read();
    return () => {
      generation++;
      stop();
    };
  }, [projectId, range, readKey]);

  return state;
}
