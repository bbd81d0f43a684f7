// The Activity view's data (docs/api.md, Project.events): the audit trail newest first, narrowed
// by type, key and deployment, read page by page; when the project changes (`version` moves, after
// each projectEvents event), the pages shown are read again, so new changes appear at the top.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { DashboardProjectActivityQuery, ProjectEventType } from '../generated/graphql.ts';
import { messageOf, request } from './graphql.ts';
import { ProjectActivityQuery } from './lifecycle-operations.ts';

export type ActivityEvent = NonNullable<DashboardProjectActivityQuery['project']>['events']['edges'][number]['node'];

export interface ActivityFilters {
  type: ProjectEventType | '';
  apiKeyId: string;
  deploymentId: string;
}

export const ACTIVITY_PAGE = 25;
const MAX_PAGE = 500;

export function useActivity(slug: string, filters: ActivityFilters, version: number) {
  const [events, setEvents] = useState<ActivityEvent[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const shown = useRef(0);
  const variables = useCallback(
    (first: number, after: string | null = null) => ({
      slug,
      first,
      after,
      types: filters.type ? [filters.type] : null,
      apiKeyId: filters.apiKeyId || null,
      deploymentId: filters.deploymentId || null,
    }),
    [slug, filters.type, filters.apiKeyId, filters.deploymentId],
  );

  const read = useCallback(
    (first: number, after: string | null) => {
      const mine = ++generation.current;
      setLoading(true);
      request(ProjectActivityQuery, variables(Math.min(first, MAX_PAGE), after)).then(
        (data) => {
          if (mine !== generation.current) return;
          const page = data.project?.events;
          const nodes = page?.edges.map((e) => e.node) ?? [];
          setEvents((before) => {
            const next = after ? [...before, ...nodes.filter((n) => !before.some((b) => b.revision === n.revision))] : nodes;
            shown.current = next.length;
            return next;
          });
          setTotal(page?.totalCount ?? 0);
          setCursor(page?.pageInfo.endCursor ?? null);
          setHasMore(page?.pageInfo.hasNextPage ?? false);
          setError(null);
          setLoading(false);
        },
        (e: unknown) => {
          if (mine !== generation.current) return;
          setError(messageOf(e));
          setLoading(false);
        },
      );
    },
    [variables],
  );

  useLayoutEffect(() => read(ACTIVITY_PAGE, null), [read]);
  const firstVersion = useRef(version);
  useEffect(() => {
    if (version !== firstVersion.current) read(Math.max(shown.current, ACTIVITY_PAGE), null);
  }, [version]);
  const loadMore = useCallback(() => {
    if (!loading && hasMore && cursor) read(ACTIVITY_PAGE, cursor);
  }, [loading, hasMore, cursor, read]);

  return { events, total, hasMore, loading, error, loadMore };
}

/** Each event type in words, for the filter. */
export const TYPE_LABEL: Record<ProjectEventType, string> = {
  API_KEY_CREATED: 'Key created',
  API_KEY_UPDATED: 'Key edited',
  API_KEY_ROTATED: 'Key rotated',
  API_KEY_DELETED: 'Key deleted',
  API_KEY_EXPIRING: 'Key expiring soon',
  API_KEY_EXPIRED: 'Key expired',
  API_KEY_LINKED: 'Key linked',
  API_KEY_UNLINKED: 'Key unlinked',
  DEPLOYMENT_CREATED: 'Deployment created',
  DEPLOYMENT_UPDATED: 'Deployment edited',
  DEPLOYMENT_AUTH_CHANGED: 'Authentication changed',
  DEPLOYMENT_DELETED: 'Deployment deleted',
};

/** "rotated key ci-bot", "linked key ci-bot to chat"; names of deleted things read "a deleted key". */
export function describeEvent(e: ActivityEvent): string {
  const key = e.apiKey ? `key ${e.apiKey.name}` : 'a deleted key';
  const deployment = e.deployment ? `deployment ${e.deployment.name}` : 'a deleted deployment';
  switch (e.type) {
    case 'API_KEY_CREATED':
      return `created ${key}`;
    case 'API_KEY_UPDATED':
      return `edited ${key}`;
    case 'API_KEY_ROTATED':
      return `rotated the secret of ${key}`;
    case 'API_KEY_DELETED':
      return `deleted ${key}`;
    case 'API_KEY_EXPIRING':
      return `${key} expires soon`;
    case 'API_KEY_EXPIRED':
      return `${key} expired`;
    case 'API_KEY_LINKED':
      return `linked ${key} to ${deployment}`;
    case 'API_KEY_UNLINKED':
      return `unlinked ${key} from ${deployment}`;
    case 'DEPLOYMENT_CREATED':
      return `created ${deployment}`;
    case 'DEPLOYMENT_UPDATED':
      return `edited ${deployment}`;
    case 'DEPLOYMENT_AUTH_CHANGED':
      return `changed the authentication of ${deployment}`;
    case 'DEPLOYMENT_DELETED':
      return `deleted ${deployment}`;
  }
}
