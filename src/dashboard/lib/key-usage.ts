// The keys list's usage column: each shown key's requests in the last 24 hours. Read only for the
// rows on screen, after they are shown (the list does not wait for it), by id in parallel batches
// of at most 15 (the API's alias limit, src/graphql-server/yoga.ts); rows added by scrolling are
// read as they come; usageUpdates add to the counts live.
import { useEffect, useRef, useState } from 'preact/hooks';
import { TypedDocumentString } from '../generated/graphql.ts';
import { request } from './graphql.ts';
import { followUsage } from './usage-live.ts';

export const KEY_USAGE_WINDOW_MS = 86_400_000;
const BATCH = 15;

type Reply = Record<string, { id: string; usage?: { total: { requests: number } } } | null>;

/** One request for up to BATCH keys: `k0: node(id: $k0) { … }` per key (ids vary, so the text is built here). */
function batchQuery(count: number) {
  const vars = Array.from({ length: count }, (_, i) => `$k${i}: ID!`).join(', ');
  const fields = Array.from({ length: count }, (_, i) => `k${i}: node(id: $k${i}) { id ... on ApiKey { usage(from: $from, granularity: HOUR) { total { requests } } } }`).join(' ');
  return new TypedDocumentString<Reply, Record<string, string>>(`query DashboardKeyUsage($from: DateTime!, ${vars}) { ${fields} }`);
}

async function readRequests(ids: string[]): Promise<Map<string, number>> {
  const from = new Date(Date.now() - KEY_USAGE_WINDOW_MS).toISOString();
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += BATCH) batches.push(ids.slice(i, i + BATCH));
  const replies = await Promise.all(
    batches.map((batch) => {
      const variables: Record<string, string> = { from };
      batch.forEach((id, j) => (variables[`k${j}`] = id));
      return request(batchQuery(batch.length), variables);
    }),
  );
  const found = new Map<string, number>();
  for (const data of replies) for (const node of Object.values(data)) if (node?.usage) found.set(node.id, node.usage.total.requests);
  return found;
}

/** Requests in the last 24 hours per key id, for the ids given (undefined while being read). */
export function useKeyUsage(ids: string[], projectId: string | null): Map<string, number> {
  const [counts, setCounts] = useState<Map<string, number>>(() => new Map());
  const asked = useRef(new Set<string>());
  const [round, setRound] = useState(0);
  const key = ids.join();

  useEffect(() => {
    const missing = ids.filter((id) => !asked.current.has(id));
    if (missing.length === 0) return;
    for (const id of missing) asked.current.add(id);
    readRequests(missing).then(
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
