import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import { sqlOfPrisma } from '../../db/sql.ts';
import { countFilteredChanges } from '../../db/statements/index.ts';
import { badInput } from '../../domain/errors.ts';
import { findReachableProject } from '../../domain/projects.ts';
import { eventsBefore } from '../../feed/change-log.ts';
import { CHANGE_TYPES } from '../../feed/events.ts';
import { builder, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../builder.ts';
import { nodeConnection, pageComplexity } from '../connections.ts';
import { deliveredEvent } from '../delivered-event.ts';
import { globalId, idOf } from '../ids.ts';
import type { DeliveredEvent, GraphQLContext, ModelQuery, SlowConsumerHook } from '../context.ts';
import { ApiKeyRef } from './api-key.ts';
import { DeploymentRef } from './deployment.ts';

const EVENT_DESCRIPTIONS: Partial<Record<(typeof CHANGE_TYPES)[number], string>> = {
  API_KEY_ROTATED: 'a new secret for the key (never in the event); the previous one works until the overlap ends',
  API_KEY_EXPIRING: 'once per key, within 5 s of its expiresAt being inside the warning window (also for a key created or updated inside it)',
};

const ProjectEventType = builder.enumType('ProjectEventType', {
  values: Object.fromEntries(CHANGE_TYPES.map((type) => [type, { description: EVENT_DESCRIPTIONS[type] }])),
});

/**
 * The Prisma query this subscriber's selection needs below apiKey/deployment. Building it records
 * the loader mappings on this subscriber's context, so nested fields (project, deployments,
 * endpointUrl…) resolve from the shared row instead of querying once per subscriber.
 */
const selectionOf = async (ctx: GraphQLContext, info: GraphQLResolveInfo) =>
  (await queryFromInfo({ context: ctx, info })) as ModelQuery;

const ProjectEvent = builder.objectRef<DeliveredEvent>('ProjectEvent').implement({
  fields: (t) => ({
    type: t.field({ type: ProjectEventType, resolve: (d) => d.event.type }),
    revision: t.int({ resolve: (d) => d.event.revision }),
    at: t.field({ type: 'DateTime', resolve: (d) => new Date(d.event.at) }),
    actor: t.string({
      nullable: true,
      description: 'name of the access token that made the change (null for the expiry sweeper)',
      resolve: (d) => d.event.actor,
    }),
    projectId: t.id({ resolve: (d) => globalId('Project', d.event.projectId) }),
    apiKeyId: t.id({ nullable: true, resolve: (d) => (d.event.payload.apiKeyId ? globalId('ApiKey', d.event.payload.apiKeyId) : null) }),
    deploymentId: t.id({
      nullable: true,
      resolve: (d) => (d.event.payload.deploymentId ? globalId('Deployment', d.event.payload.deploymentId) : null),
    }),
    apiKey: t.field({
      type: ApiKeyRef,
      nullable: true,
      description: 'its state when the event is fanned out (read once per event and shared by all subscribers); null once deleted',
      resolve: async (d, _args, ctx, info) => (await d.apiKey(await selectionOf(ctx, info))) as never,
    }),
    deployment: t.field({
      type: DeploymentRef,
      nullable: true,
      resolve: async (d, _args, ctx, info) => (await d.deployment(await selectionOf(ctx, info))) as never,
    }),
  }),
});

const ProjectEventConnection = nodeConnection(ProjectEvent, 'ProjectEventConnection');

// The audit trail's cursor names the revision of the last event of a page; the next page holds
// the matching events below it, so events recorded meanwhile never shift a page.
const CURSOR_PREFIX = 'ProjectEvent:';
const eventCursor = (revision: number) => Buffer.from(`${CURSOR_PREFIX}${revision}`).toString('base64');
function revisionOfCursor(cursor: string): number {
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  const revision = decoded.startsWith(CURSOR_PREFIX) ? Number(decoded.slice(CURSOR_PREFIX.length)) : Number.NaN;
  if (!Number.isSafeInteger(revision) || revision < 1 || eventCursor(revision) !== cursor) {
    throw badInput('after', 'after is not a cursor of this connection');
  }
  return revision;
}

builder.prismaObjectField('Project', 'events', (t) =>
  t.connection(
    {
      type: ProjectEvent,
      description:
        'the retained change log as an audit trail, newest first (KEYGATE_CHANGELOG_RETENTION_HOURS, default 90 days); ' +
        'each given filter must match: apiKeyId the key an event is about, deploymentId the deployment (a link event matches both)',
      complexity: pageComplexity,
      args: {
        types: t.arg({ type: [ProjectEventType] }),
        actor: t.arg.string(),
        apiKeyId: t.arg.id(),
        deploymentId: t.arg.id(),
      },
      resolve: async (project, args, ctx) => {
        if (args.last != null || args.before != null) throw badInput('last', 'events pages forwards only: use first and after');
        if (args.first != null && (args.first < 1 || args.first > MAX_PAGE_SIZE)) throw badInput('first', `first must be between 1 and ${MAX_PAGE_SIZE}`);
        const before = args.after == null ? null : revisionOfCursor(args.after);
        const filter = {
          projectId: project.id,
          types: args.types,
          actor: args.actor,
          apiKeyId: args.apiKeyId == null ? null : idOf('ApiKey', String(args.apiKeyId), 'apiKeyId'),
          deploymentId: args.deploymentId == null ? null : idOf('Deployment', String(args.deploymentId), 'deploymentId'),
        };
        ctx.budget.check();
        const sql = sqlOfPrisma(ctx.prisma);
        const first = args.first ?? DEFAULT_PAGE_SIZE;
        const events = await eventsBefore(sql, filter, before, first + 1);
        const page = events.slice(0, first);
        const edges = page.map((event) => ({ cursor: eventCursor(event.revision), node: deliveredEvent(ctx.prisma, event) }));
        return {
          edges,
          pageInfo: {
            hasNextPage: events.length > first,
            hasPreviousPage: before !== null,
            startCursor: edges[0]?.cursor ?? null,
            endCursor: edges.at(-1)?.cursor ?? null,
          },
          totalCount: () => countFilteredChanges(sql, filter),
        };
      },
    },
    ProjectEventConnection,
  ),
);

builder.subscriptionType({
  fields: (t) => ({
    projectEvents: t.field({
      type: ProjectEvent,
      description:
        'every change in the project, in revision order (revisions are global: strictly increasing within a stream, not contiguous); ' +
        'with afterRevision the change log after that revision is replayed first, then the stream goes on live, with no gap and no duplicate',
      args: { projectId: t.arg.id({ required: true }), afterRevision: t.arg.int() },
      subscribe: async (_root, args, ctx) => {
        const projectId = idOf('Project', String(args.projectId), 'projectId');
        await findReachableProject(ctx.prisma, ctx.viewer, projectId);
        return ctx.events.stream(projectId, args.afterRevision ?? null, {
          tokenId: ctx.viewer.tokenId,
          onSlowConsumer: (ctx as GraphQLContext & SlowConsumerHook).onSlowConsumer,
        });
      },
      resolve: (d) => d,
    }),
  }),
});
