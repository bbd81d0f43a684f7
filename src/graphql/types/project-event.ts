import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import { findReachableProject } from '../../domain/projects.ts';
import { CHANGE_TYPES } from '../../feed/events.ts';
import { builder } from '../builder.ts';
import { globalId, idOf } from '../ids.ts';
import type { DeliveredEvent, GraphQLContext, ModelQuery, SlowConsumerHook } from '../context.ts';
import { ApiKeyRef } from './api-key.ts';
import { DeploymentRef } from './deployment.ts';

const ProjectEventType = builder.enumType('ProjectEventType', { values: CHANGE_TYPES });

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
