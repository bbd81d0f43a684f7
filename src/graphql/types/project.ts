import { type Viewer, canReachProject } from '../../domain/access.ts';
import { sqlOfPrisma } from '../../db/sql.ts';
import { headRevision } from '../../db/statements/index.ts';
import { badInput } from '../../domain/errors.ts';
import { API_KEY_ORDERS, type ApiKeyOrder, apiKeyAfter, apiKeyFilter, apiKeyOrderBy, deploymentFilter, orderColumns } from '../../domain/listing.ts';
import { createProject } from '../../domain/projects.ts';
import type { Prisma } from '../../generated/prisma/client.ts';
import { answerChangesAnyTime } from '../answer-validity.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { CONNECTION_ORDER, checkConnectionArgs, concurrentCount, nodeConnection, pageComplexity } from '../connections.ts';
import { ApiKeyConnection } from './api-key.ts';
import { DeploymentConnection } from './deployment.ts';

export const NO_ID = '00000000-0000-0000-0000-000000000000';

interface PageArgs {
  first?: number | null;
  after?: string | null;
  search?: string | null;
}

export const ApiKeyOrderEnum = builder.enumType('ApiKeyOrder', { values: API_KEY_ORDERS });

/**
 * A project's keys in the order asked for, narrowed by `search` (domain/listing.ts). The page is
 * its own query on the keys table, so Postgres applies its LIMIT. Pothos's cursor is the row's id;
 * the page after it is a keyset condition on the order's columns, read back from that row (a
 * cursor whose row was deleted since is BAD_USER_INPUT: start again from the first page).
 */
async function readKeyPage(
  ctx: GraphQLContext,
  projectId: string,
  query: Prisma.ApiKeyFindManyArgs,
  args: PageArgs & { orderBy?: ApiKeyOrder | null },
) {
  const order = args.orderBy ?? 'CREATED_AT_ASC';
  // lastUsedAt is written by the proxies' flushes, which take no revision.
  if (order === 'LAST_USED_AT_DESC') answerChangesAnyTime(ctx);
  const { cursor, skip: _skip, ...rest } = query;
  const filter = apiKeyFilter(projectId, args.search);
  const orderBy = apiKeyOrderBy(order);
  // Backward pages (before/last, which no client here uses) keep Prisma's own cursor.
  if ((query.take ?? 0) < 0) return ctx.prisma.apiKey.findMany({ ...query, where: filter, orderBy });
  let after = {};
  if (cursor?.id) {
    const row = await ctx.prisma.apiKey.findFirst({ where: { id: cursor.id, projectId }, select: orderColumns(order) });
    if (!row) throw badInput('after', 'after points at a key that no longer exists: start again from the first page');
    after = apiKeyAfter(order, row);
  }
  return ctx.prisma.apiKey.findMany({ ...rest, where: { AND: [filter, after] }, orderBy });
}

// The counts run alongside the pages (at 100,000 keys each takes tens of milliseconds).
const keyCount = concurrentCount((project: { id: string }, args: { search?: string | null }, ctx: GraphQLContext) =>
  ctx.prisma.apiKey.count({ where: apiKeyFilter(project.id, args.search) }),
);
const deploymentCount = concurrentCount((project: { id: string }, args: { search?: string | null }, ctx: GraphQLContext) =>
  ctx.prisma.deployment.count({ where: deploymentFilter(project.id, args.search) }),
);

export const ProjectRef = builder.prismaNode('Project', {
  id: { field: 'id' },
  nullable: true, // node(id:) answers null for an unknown or foreign id, not an error
  findUnique: (id, ctx) => ({ id: canReachProject(ctx.viewer, id) ? id : NO_ID }),
  fields: (t) => ({
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    revision: t.int({
      description:
        "the change log's head revision when this is read; reads made afterwards reflect every change up to it. Read it first (in its own request), then the state, then subscribe to projectEvents with afterRevision: revision, and no change is missed",
      resolve: (_project, _args, ctx) => headRevision(sqlOfPrisma(ctx.prisma)),
    }),
    apiKeys: t.prismaConnection({
      type: 'ApiKey',
      cursor: 'id',
      complexity: pageComplexity,
      description: "name or prefix contains `search` (case-insensitive); ordered by orderBy (the default keeps 0.1's order)",
      args: {
        search: t.arg.string(),
        orderBy: t.arg({ type: ApiKeyOrderEnum, defaultValue: 'CREATED_AT_ASC' }),
      },
      totalCount: keyCount.totalCount,
      resolve: (query, project, args, ctx, info) => {
        checkConnectionArgs(args);
        ctx.budget.check(); // the request's deadline (operation-limits.ts)
        keyCount.start(project, args, ctx, info);
        return readKeyPage(ctx, project.id, query, args);
      },
    }, ApiKeyConnection),
    deployments: t.prismaConnection({
      type: 'Deployment',
      cursor: 'id',
      complexity: pageComplexity,
      description: 'name contains `search` (case-insensitive); ordered by (createdAt, id)',
      args: { search: t.arg.string() },
      // A page is its own query on the deployments table, so Postgres applies its LIMIT.
      totalCount: deploymentCount.totalCount,
      resolve: (query, project, args, ctx, info) => {
        checkConnectionArgs(args);
        ctx.budget.check();
        deploymentCount.start(project, args, ctx, info);
        return ctx.prisma.deployment.findMany({ ...query, where: deploymentFilter(project.id, args.search), orderBy: CONNECTION_ORDER });
      },
    }, DeploymentConnection),
  }),
});

export const ProjectConnection = nodeConnection(ProjectRef, 'ProjectConnection');

builder.queryFields((t) => ({
  project: t.prismaField({
    type: 'Project',
    nullable: true,
    args: { slug: t.arg.string({ required: true }) },
    resolve: (query, _root, { slug }, ctx) =>
      ctx.prisma.project.findFirst({ ...query, where: { slug: slug.toLowerCase(), ...scopeProjects(ctx.viewer) } }),
  }),
  projects: t.prismaConnection({
    type: 'Project',
    cursor: 'id',
    complexity: pageComplexity,
    totalCount: (_root, args, ctx) => {
      checkConnectionArgs(args);
      return ctx.prisma.project.count({ where: scopeProjects(ctx.viewer) });
    },
    resolve: (query, _root, args, ctx) => {
      checkConnectionArgs(args);
      return ctx.prisma.project.findMany({ ...query, where: scopeProjects(ctx.viewer), orderBy: CONNECTION_ORDER });
    },
  }, ProjectConnection),
}));

function scopeProjects(viewer: Viewer) {
  return viewer.role === 'ADMIN' ? {} : { id: viewer.projectId ?? NO_ID };
}

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  fields: (t) => ({ slug: t.string({ required: true }), name: t.string() }),
});

const CreateProjectPayload = builder.simpleObject('CreateProjectPayload', {
  fields: (t) => ({ project: t.field({ type: ProjectRef }) }),
});

builder.mutationFields((t) => ({
  createProject: t.field({
    type: CreateProjectPayload,
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ project: await createProject(ctx.prisma, ctx.viewer, input) }),
  }),
}));
