// What each usage flush publishes on the feed, so every control plane can serve `usageUpdates`:
// the counts just written, per (deployment, key), summed over the minutes the flush covered.
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

const COUNT_FIELDS = ['requests', 'errors', 'rejected', 'rateLimited', 'promptTokens', 'completionTokens'] as const;

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

const isUuidish = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 64;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A usage batch from the wire, or null when the text is not one. */
export function parseUsageBatch(text: string): UsageBatch | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { at, updates } = value as Record<string, unknown>;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || !Array.isArray(updates)) return null;
  for (const u of updates as Record<string, unknown>[]) {
    if (typeof u !== 'object' || u === null || !isUuidish(u.projectId) || !isUuidish(u.deploymentId)) return null;
    if (u.apiKeyId !== null && !isUuidish(u.apiKeyId)) return null;
    if (!COUNT_FIELDS.every((f) => isCount(u[f]))) return null;
  }
  return value as UsageBatch;
}
