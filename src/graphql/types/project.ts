import { type Viewer, canReachProject } from '../../domain/access.ts';
import { sqlOfPrisma } from '../../db/queries.ts';
import { headRevision } from '../../domain/change-log.ts';
import { createProject } from '../../domain/projects.ts';
import { builder } from '../builder.ts';
import { CONNECTION_ORDER, checkConnectionArgs } from '../connections.ts';

export const NO_ID = '00000000-0000-0000-0000-000000000000';

/** A project's keys and deployments: the API's connection rules, ordered by (createdAt, id). */
const relatedConnectionOptions = {
  cursor: 'id',
  query: (args: { first?: number | null; after?: string | null }) => {
    checkConnectionArgs(args);
    return { orderBy: CONNECTION_ORDER };
  },
} as const;

/**
 * totalCount is a count of the project's own rows, which Postgres answers from the
 * (project_id, created_at, id) index. The plugin's built-in totalCount adds a `_count` to the
 * project's query, which Prisma writes as a GROUP BY over the whole table (every project's rows:
 * 15–40 ms at 100,000 keys). The plugin's connection object keeps the row it hangs from.
 */
const projectIdOf = (connection: object) => (connection as { parent: { id: string } }).parent.id;

export const ProjectRef = builder.prismaNode('Project', {
  id: { field: 'id' },
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
    apiKeys: t.relatedConnection('apiKeys', relatedConnectionOptions, {
      fields: (c) => ({
        totalCount: c.int({ resolve: (connection, _args, ctx) => ctx.prisma.apiKey.count({ where: { projectId: projectIdOf(connection) } }) }),
      }),
    }),
    deployments: t.relatedConnection('deployments', relatedConnectionOptions, {
      fields: (c) => ({
        totalCount: c.int({ resolve: (connection, _args, ctx) => ctx.prisma.deployment.count({ where: { projectId: projectIdOf(connection) } }) }),
      }),
    }),
  }),
});

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
    totalCount: (_root, args, ctx) => {
      checkConnectionArgs(args);
      return ctx.prisma.project.count({ where: scopeProjects(ctx.viewer) });
    },
    resolve: (query, _root, args, ctx) => {
      checkConnectionArgs(args);
      return ctx.prisma.project.findMany({ ...query, where: scopeProjects(ctx.viewer), orderBy: CONNECTION_ORDER });
    },
  }),
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
