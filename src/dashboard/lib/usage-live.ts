// Follows a project's usage as the proxies record it (the `usageUpdates` subscription over
// graphql-ws, docs/api.md "Usage"). One subscription per project, shared by every view that shows
// its usage. The stream is live only: after a reconnect each view reads its series again
// (onResync), since updates sent while it was away are not replayed.
import type { DashboardUsageUpdatesSubscription } from '../generated/graphql.ts';
import { session } from './session.ts';
import { UsageUpdatesSubscription } from './usage-operations.ts';
import { dashboardClient, keepSubscription } from './ws-client.ts';

export type UsageUpdate = DashboardUsageUpdatesSubscription['usageUpdates'];

export interface UsageListener {
  onUpdate: (update: UsageUpdate) => void;
  /** updates may have been missed (a reconnect): read again */
  onResync: () => void;
}

interface Hub {
  listeners: Set<UsageListener>;
  stop: () => void;
}

const hubs = new Map<string, Hub>();
const RETRY_MS = 2000;

function startHub(projectId: string, token: string, listeners: Set<UsageListener>): () => void {
  let connectedBefore = false;
  const client = dashboardClient(token, {
    retryAttempts: Infinity,
    // a refused or deleted token ends following here; the project's own follower signs out
    shouldRetry: (event) => !(event instanceof CloseEvent && (event.code === 4401 || event.code === 4403)),
    on: {
      connected: () => {
        if (connectedBefore) for (const l of listeners) l.onResync();
        connectedBefore = true;
      },
    },
  });
  const kept = keepSubscription(client, () =>
    client.subscribe<DashboardUsageUpdatesSubscription>(
      { query: UsageUpdatesSubscription.toString(), variables: { projectId } },
      {
        next: ({ data }) => {
          if (data?.usageUpdates) for (const l of listeners) l.onUpdate(data.usageUpdates);
        },
        // ended by the server (e.g. UNAVAILABLE for a slow reader): subscribe again, then read again
        error: () => again(),
        complete: () => again(),
      },
    ),
  );
  const again = () => {
    if (!kept.ended()) return;
    kept.again(RETRY_MS, () => {
      for (const l of listeners) l.onResync();
    });
  };
  kept.subscribe();
  return kept.stop;
}

/** Starts following the project's usage for `listener`; returns a function that stops. */
export function followUsage(projectId: string, listener: UsageListener): () => void {
  let hub = hubs.get(projectId);
  if (!hub) {
    const token = session.token();
    if (!token) return () => {};
    const listeners = new Set<UsageListener>();
    hub = { listeners, stop: startHub(projectId, token, listeners) };
    hubs.set(projectId, hub);
  }
  const mine = hub;
  mine.listeners.add(listener);
  return () => {
    mine.listeners.delete(listener);
    if (mine.listeners.size > 0) return;
    mine.stop();
    if (hubs.get(projectId) === mine) hubs.delete(projectId);
  };
}
