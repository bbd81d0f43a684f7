// The Activity view's data (docs/api.md, Project.events): the audit trail newest first, narrowed
// by type, key and deployment, read page by page; when the project changes (`version` moves, after
// each projectEvents event), the pages shown are read again, so new changes appear at the top
// (paged-connection.ts reads the pages).
import { useCallback } from 'preact/hooks';
import type { DashboardProjectActivityQuery, ProjectEventType } from '../generated/graphql.ts';
import { request } from './graphql.ts';
import { ProjectActivityQuery } from './lifecycle-operations.ts';
import { type Paging, usePagedConnection } from './paged-connection.ts';

export type ActivityEvent = NonNullable<DashboardProjectActivityQuery['project']>['events']['edges'][number]['node'];

export const ACTIVITY_PAGE = 25;
const PAGING: Paging<ActivityEvent> = { keyOf: (event) => event.revision, pageSize: ACTIVITY_PAGE, maxPage: 500 };

export interface ActivityFilters {
  type: ProjectEventType | '';
  apiKeyId: string;
  deploymentId: string;
}

export function useActivity(slug: string, filters: ActivityFilters, version: number) {
  const readPage = useCallback(
    (first: number, after?: string) =>
      request(ProjectActivityQuery, {
        slug,
        first,
        after: after ?? null,
        types: filters.type ? [filters.type] : null,
        apiKeyId: filters.apiKeyId || null,
        deploymentId: filters.deploymentId || null,
      }).then((data) => data.project?.events),
    [slug, filters.type, filters.apiKeyId, filters.deploymentId],
  );
  const { nodes, ...list } = usePagedConnection(readPage, PAGING, version);
  return { events: nodes, ...list };
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
