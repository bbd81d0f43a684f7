import { type Viewer, canReachProject } from '../../domain/access.ts';
import { sqlOfPrisma } from '../../db/sql.ts';
import { headRevision } from '../../db/statements/index.ts';
import { createProject } from '../../domain/projects.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { CONNECTION_ORDER, checkConnectionArgs, nodeConnection, pageComplexity } from '../connections.ts';
import { ApiKeyConnection } from './api-key.ts';
import { DeploymentConnection } from './deployment.ts';

export const NO_ID = '00000000-0000-0000-0000-000000000000';

/**
 * A project's keys and deployments: the API's connection rules, ordered by (createdAt, id). Each
 * page is its own query on the child table, so Postgres applies the page's LIMIT (as a relation
 * of the project's query, Prisma read every row of the project and cut the page in memory).
 * totalCount is a count of the project's own rows, answered from the (project_id, created_at, id)
 * index.
 */
function projectPage<Row>(
  read: (ctx: GraphQLContext, args: { where: { projectId: string }; orderBy: typeof CONNECTION_ORDER }) => Promise<Row[]>,
  count: (ctx: GraphQLContext, where: { projectId: string }) => Promise<number>,
) {
  return {
    cursor: 'id',
    complexity: pageComplexity,
    totalCount: (project: { id: string }, _args: object, ctx: GraphQLContext) => count(ctx, { projectId: project.id }),
    resolve: (query: object, project: { id: string }, args: { first?: number | null; after?: string | null }, ctx: GraphQLContext) => {
      checkConnectionArgs(args);
      ctx.budget.check(); // the request's deadline (operation-limits.ts)
      return read(ctx, { ...query, where: { projectId: project.id }, orderBy: CONNECTION_ORDER });
    },
  } as const;
}

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
      ...projectPage(
        (ctx, args) => ctx.prisma.apiKey.findMany(args),
        (ctx, where) => ctx.prisma.apiKey.count({ where }),
      ),
    }, ApiKeyConnection),
    deployments: t.prismaConnection({
      type: 'Deployment',
      ...projectPage(
        (ctx, args) => ctx.prisma.deployment.findMany(args),
        (ctx, where) => ctx.prisma.deployment.count({ where }),
      ),
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
