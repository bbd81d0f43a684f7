import { projectScope } from '../../domain/access.ts';
import { createAccessToken, deleteAccessToken } from '../../domain/access-tokens.ts';
import { builder } from '../builder.ts';
import { CONNECTION_ORDER, checkConnectionArgs, nodeConnection, pageComplexity } from '../connections.ts';
import { globalId, idOf } from '../ids.ts';
import { ProjectRef } from './project.ts';

const RoleEnum = builder.enumType('Role', { values: ['ADMIN', 'PROJECT'] as const });

export const AccessTokenRef = builder.prismaNode('AccessToken', {
  id: { field: 'id' },
  nullable: true, // node(id:) answers null for an unknown or foreign id, not an error
  findUnique: (id, ctx) => ({ id, ...projectScope(ctx.viewer) }),
  fields: (t) => ({
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    project: t.relation('project', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
  }),
});

const AccessTokenConnection = nodeConnection(AccessTokenRef, 'AccessTokenConnection');

const Viewer = builder.simpleObject('Viewer', {
  fields: (t) => ({ role: t.field({ type: RoleEnum }), tokenName: t.string() }),
});

builder.objectField(Viewer, 'project', (t) =>
  t.field({
    type: ProjectRef,
    nullable: true,
    resolve: (_viewer, _args, ctx) =>
      ctx.viewer.projectId ? ctx.prisma.project.findUnique({ where: { id: ctx.viewer.projectId } }) : null,
  }),
);

builder.queryFields((t) => ({
  viewer: t.field({ type: Viewer, resolve: (_root, _args, ctx) => ({ role: ctx.viewer.role, tokenName: ctx.viewer.tokenName }) }),
  accessTokens: t.prismaConnection({
    type: 'AccessToken',
    cursor: 'id',
    complexity: pageComplexity,
    description: "admin: every token; project token: its project's tokens",
    totalCount: (_root, args, ctx) => {
      checkConnectionArgs(args);
      return ctx.prisma.accessToken.count({ where: projectScope(ctx.viewer) });
    },
    resolve: (query, _root, args, ctx) => {
      checkConnectionArgs(args);
      return ctx.prisma.accessToken.findMany({ ...query, where: projectScope(ctx.viewer), orderBy: CONNECTION_ORDER });
    },
  }, AccessTokenConnection),
}));

const CreateAccessTokenInput = builder.inputType('CreateAccessTokenInput', {
  description: 'projectId null: an admin token (admins only); a project token may create tokens for its own project',
  fields: (t) => ({ name: t.string({ required: true }), projectId: t.id(), expiresAt: t.field({ type: 'DateTime' }) }),
});

const CreateAccessTokenPayload = builder.simpleObject('CreateAccessTokenPayload', {
  fields: (t) => ({ token: t.string(), id: t.id() }),
});

const DeleteAccessTokenInput = builder.inputType('DeleteAccessTokenInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

const DeleteAccessTokenPayload = builder.simpleObject('DeleteAccessTokenPayload', {
  fields: (t) => ({ deletedAccessTokenId: t.id() }),
});

builder.mutationFields((t) => ({
  createAccessToken: t.field({
    type: CreateAccessTokenPayload,
    args: { input: t.arg({ type: CreateAccessTokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const projectId = input.projectId == null ? null : idOf('Project', String(input.projectId), 'projectId');
      const { id, token } = await createAccessToken(ctx.prisma, ctx.viewer, { ...input, projectId });
      return { id: globalId('AccessToken', id), token };
    },
  }),
  deleteAccessToken: t.field({
    type: DeleteAccessTokenPayload,
    args: { input: t.arg({ type: DeleteAccessTokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const id = await deleteAccessToken(ctx.prisma, ctx.viewer, idOf('AccessToken', String(input.id), 'id'));
      return { deletedAccessTokenId: globalId('AccessToken', id) };
    },
  }),
}));
