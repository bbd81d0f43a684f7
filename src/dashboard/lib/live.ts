// Follows a project's change log over graphql-ws, so changes made elsewhere (another tab, the API,
// the expiry sweeper) appear without a reload. Every subscription carries afterRevision: first the
// revision read before the page's state (Project.revision), then the last revision seen, so
// nothing between the read and the stream, or between two connections, is missed. If the log no
// longer reaches back that far (RESYNC_REQUIRED), the page reads the revision and its state again
// and the stream goes on from there.
import { ProjectEventsSubscription } from './operations.ts';
import { dashboardClient, keepSubscription } from './ws-client.ts';

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

const BACKOFF_MS = [250, 500, 1000, 2000, 5000];

/** Starts following; returns a function that stops. */
export function followProject(options: FollowOptions): () => void {
  let lastSeen: number | null = null;
  let attempt = 0;
  let forbidden = false;
  const client = dashboardClient(options.token, {
    retryAttempts: 0, // reconnecting is done here, so each attempt carries the newest afterRevision
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

  const kept = keepSubscription(client, () => {
    const known = Math.max(lastSeen ?? 0, options.afterRevision());
    return client.subscribe<{ projectEvents: LiveEvent }>(
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
  });

  const retry = () => {
    if (!kept.ended()) return;
    if (forbidden) {
      options.onForbidden();
      return;
    }
    options.onStatus('reconnecting');
    const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
    attempt++;
    kept.again(delay);
  };

  kept.subscribe();
  return kept.stop;
}
