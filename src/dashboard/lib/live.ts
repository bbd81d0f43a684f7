// Follows a project's change log over graphql-ws, so changes made elsewhere (another tab, the API,
// the expiry sweeper) appear without a reload. After a disconnect it subscribes again with
// afterRevision = the last revision seen, so nothing between the two connections is missed; if
// the log no longer reaches back that far (RESYNC_REQUIRED) it reloads everything and goes on
// from the head.
import { createClient, type Client } from 'graphql-ws';
import { ProjectEventsSubscription } from './operations.ts';
import { bearer } from './session.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

export interface LiveEvent {
  revision: number;
  type: string;
  actor?: string | null;
  apiKeyId?: string | null;
  deploymentId?: string | null;
}

export interface FollowOptions {
  projectId: string;
  token: string;
  /** the last revision the page already reflects (a mutation's propagation.revision), if known */
  afterRevision?: () => number | null;
  onEvent: (event: LiveEvent) => void;
  /** the page must reload its data: first connection, reconnect without a revision, resync */
  onReload: () => void;
  onStatus: (status: LiveStatus) => void;
  /** the token was refused or deleted (4401/4403): sign out */
  onForbidden: () => void;
}

const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
const BACKOFF_MS = [250, 500, 1000, 2000, 5000];

/** Starts following; returns a function that stops. */
export function followProject(options: FollowOptions): () => void {
  let stopped = false;
  let lastSeen: number | null = null;
  let unsubscribe: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let forbidden = false;
  const client: Client = createClient({
    url: wsUrl(),
    connectionParams: { authorization: bearer(options.token) },
    retryAttempts: 0, // reconnecting is done here, so each attempt carries the newest afterRevision
    lazy: true,
    on: {
      connected: () => {
        attempt = 0;
        options.onStatus('live');
      },
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        if (code === 4401 || code === 4403) forbidden = true;
      },
    },
  });

  const subscribe = () => {
    if (stopped) return;
    const revisions = [lastSeen, options.afterRevision?.() ?? null].filter((r): r is number => r !== null);
    const known = revisions.length > 0 ? Math.max(...revisions) : null;
    options.onStatus(attempt === 0 ? 'connecting' : 'reconnecting');
    unsubscribe = client.subscribe<{ projectEvents: LiveEvent }>(
      { query: ProjectEventsSubscription.toString(), variables: { projectId: options.projectId, afterRevision: known } },
      {
        next: ({ data, errors }) => {
          if (errors?.length) return;
          const event = data?.projectEvents;
          if (!event || (lastSeen !== null && event.revision <= lastSeen)) return;
          lastSeen = event.revision;
          options.onEvent(event);
        },
        error: (error) => {
          const code = (Array.isArray(error) ? error[0]?.extensions?.code : undefined) as string | undefined;
          if (code === 'RESYNC_REQUIRED') {
            lastSeen = null;
            options.onReload();
          }
          retry();
        },
        complete: () => retry(),
      },
    );
    // Without a revision to resume from, what happened while away is read again.
    if (known === null) options.onReload();
  };

  const retry = () => {
    unsubscribe = null;
    if (stopped) return;
    if (forbidden) {
      options.onForbidden();
      return;
    }
    options.onStatus('reconnecting');
    const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
    attempt++;
    timer = setTimeout(subscribe, delay);
  };

  subscribe();
  return () => {
    stopped = true;
    clearTimeout(timer);
    unsubscribe?.();
    void client.dispose();
  };
}
