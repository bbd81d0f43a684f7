// Follows a project's change log over graphql-ws, so changes made elsewhere (another tab, the API,
// the expiry sweeper) appear without a reload. Every subscription carries afterRevision: first the
// revision read before the page's state (Project.revision), then the last revision seen, so
// nothing between the read and the stream, or between two connections, is missed. If the log no
// longer reaches back that far (RESYNC_REQUIRED), the page reads the revision and its state again
// and the stream goes on from there.
import { createClient, type Client } from 'graphql-ws';
import { ProjectEventsSubscription } from './operations.ts';
import { bearer } from './session.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';

/** What the page needs of an event: it reloads the state rather than patching it. */
export interface LiveEvent {
  revision: number;
}

export interface FollowOptions {
  projectId: string;
  token: string;
  /** the revision the page's state reflects (read before it, or a mutation's propagation.revision) */
  afterRevision: () => number;
  onEvent: (event: LiveEvent) => void;
  /** the log no longer reaches back to afterRevision: read the revision, then the state, again */
  resync: () => Promise<void>;
  onStatus: (status: LiveStatus) => void;
  /** the token was refused or deleted (4401/4403): sign out */
  onForbidden: () => void;
}

export const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
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
    const known = Math.max(lastSeen ?? 0, options.afterRevision());
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
          if (code !== 'RESYNC_REQUIRED') return retry();
          lastSeen = null;
          options.resync().then(retry, retry);
        },
        complete: () => retry(),
      },
    );
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
