// The keys list's usage column: each shown key's requests in the last 24 hours. Read only for the
// rows on screen, after they are shown (the list does not wait for it), in one request per 100 keys
// (Project.usageByKey narrowed to their ids, docs/api.md "Usage"); rows added by scrolling are read
// as they come; usageUpdates add to the counts live.
import { useEffect, useRef, useState } from 'preact/hooks';
import { request } from './graphql.ts';
import { followUsage } from './usage-live.ts';
import { KeyRequestsQuery } from './usage-operations.ts';

export const KEY_USAGE_WINDOW_MS = 86_400_000;
/** The most ids one usageByKey narrows to. */
const BATCH = 100;

async function readRequests(slug: string, ids: string[]): Promise<Map<string, number>> {
  const from = new Date(Date.now() - KEY_USAGE_WINDOW_MS).toISOString();
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH) batches.push(ids.slice(i, i + BATCH));
  const replies = await Promise.all(batches.map((batch) => request(KeyRequestsQuery, { slug, from, ids: batch, count: batch.length })));
  // a key the ranking leaves out had no requests in the window
  const found = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const data of replies) for (const k of data.project?.usageByKey ?? []) found.set(k.apiKeyId, k.total.requests);
  return found;
}

/** Requests in the last 24 hours per key id, for the ids given (undefined while being read). */
export function useKeyUsage(slug: string, ids: string[], projectId: string | null): Map<string, number> {
  const [counts, setCounts] = useState<Map<string, number>>(() => new Map());
  const asked = useRef(new Set<string>());
  const [round, setRound] = useState(0);
  const key = ids.join();

  useEffect(() => {
    const missing = ids.filter((id) => !asked.current.has(id));
    if (missing.length === 0) return;
    for (const id of missing) asked.current.add(id);
    readRequests(slug, missing).then(
      (found) => setCounts((before) => new Map([...before, ...found])),
      () => {
        for (const id of missing) asked.current.delete(id); // read again with the next change
      },
    );
  }, [key, round]);

  useEffect(() => {
    if (!projectId) return;
    return followUsage(projectId, {
      onUpdate: (u) => {
        const id = u.apiKeyId;
        if (!id || !u.requests) return;
        setCounts((before) => (before.has(id) ? new Map(before).set(id, before.get(id)! + u.requests) : before));
      },
      // updates may have been missed: read the shown keys again
      onResync: () => {
        asked.current.clear();
        setRound((n) => n + 1);
      },
    });
  }, [projectId]);

  return counts;
}
