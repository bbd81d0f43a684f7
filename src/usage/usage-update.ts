// What each usage flush publishes on the feed, so every control plane can serve `usageUpdates`:
// the counts just written, per (deployment, key), summed over the minutes the flush covered. It is
// checked on the way in by feed/wire.ts.
import { addCounts, emptyCounts, type UsageCounts, type UsageRow } from './aggregator.ts';

export interface UsageUpdateMessage extends UsageCounts {
  projectId: string;
  deploymentId: string;
  /** null: refused requests that named no known key */
  apiKeyId: string | null;
}

export interface UsageBatch {
  /** ISO date-time: the end of the interval these counts cover (when the flush drained them) */
  at: string;
  updates: UsageUpdateMessage[];
}

/** The rows of one flush as one update per (deployment, key). */
export function toUsageBatch(rows: readonly UsageRow[], at: number): UsageBatch {
  const byPair = new Map<string, UsageUpdateMessage>();
  for (const r of rows) {
    const pair = `${r.deploymentId}/${r.apiKeyId ?? ''}`;
    let u = byPair.get(pair);
    if (!u) byPair.set(pair, (u = { projectId: r.projectId, deploymentId: r.deploymentId, apiKeyId: r.apiKeyId, ...emptyCounts() }));
    addCounts(u, r);
  }
  return { at: new Date(at).toISOString(), updates: [...byPair.values()] };
}
