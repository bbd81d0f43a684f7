import { projectScope } from '../../domain/access.ts';
import {
  createDeployment,
  deleteDeployment,
  setDeploymentAuth,
  setLink,
  updateDeployment,
} from '../../domain/deployments.ts';
import { builder } from '../builder.ts';
import { nodeConnection } from '../connections.ts';
import { linkListComplexity } from '../complexity.ts';
import { globalId, idOf } from '../ids.ts';
import { linkedDeployments } from '../linked-deployments.ts';
import { ApiKeyRef } from './api-key.ts';
import { PropagationRef } from './propagation.ts';

export const DeploymentRef = builder.prismaNode('Deployment', {
  id: { field: 'id' },
  nullable: true, // node(id:) answers null for an unknown or foreign id, not an error
  findUnique: (id, ctx) => ({ id, ...projectScope(ctx.viewer) }),
  fields: (t) => ({
    project: t.relation('project'),
    name: t.exposeString('name'),
    model: t.exposeString('model'),
    upstreamUrl: t.exposeString('upstreamUrl'),
    endpointUrl: t.string({
      description: 'the URL clients call, e.g. http://model-demo.acme.localhost:8080',
      select: { project: { select: { slug: true } } },
      resolve: (d, _args, ctx) => ctx.endpointUrl(d.project.slug, d.name),
    }),
    authEnabled: t.exposeBoolean('authEnabled'),
    apiKeys: t.field({
      type: [ApiKeyRef],
      complexity: linkListComplexity,
      // At most one link more than the request's budget is read (operation-limits.ts).
      select: (_args, ctx, nestedSelection) => ({
        links: { select: { apiKey: nestedSelection(true) }, orderBy: { createdAt: 'asc' }, take: ctx.budget.remaining + 1 },
      }),
      resolve: (d) => d.links.map((l) => l.apiKey),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

// Defined here rather than in api-key.ts: the two types refer to each other. One statement for the
// deployments of every key in the execution (no N+1; see linked-deployments.ts).
export const DeploymentConnection = nodeConnection(DeploymentRef, 'DeploymentConnection');

builder.prismaObjectField(ApiKeyRef, 'deployments', (t) =>
  t.field({
    type: [DeploymentRef],
    complexity: linkListComplexity,
    resolve: (key, _args, ctx) => linkedDeployments(ctx, key.id),
  }),
);

const keyIds = (ids: readonly (string | number)[] | null | undefined, field: string) =>
  ids == null ? ids : ids.map((id) => idOf('ApiKey', String(id), field));

const CreateDeploymentInput = builder.inputType('CreateDeploymentInput', {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    name: t.string({ required: true }),
    model: t.string({ required: true }),
    upstreamUrl: t.string({ required: true }),
    authEnabled: t.boolean({ defaultValue: false }),
    apiKeyIds: t.idList({ defaultValue: [] }),
  }),
});

const UpdateDeploymentInput = builder.inputType('UpdateDeploymentInput', {
  fields: (t) => ({ id: t.id({ required: true }), model: t.string(), upstreamUrl: t.string() }),
});

const DeleteDeploymentInput = builder.inputType('DeleteDeploymentInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

const SetDeploymentAuthInput = builder.inputType('SetDeploymentAuthInput', {
  description: 'apiKeyIds omitted: links stay as they are; given: the linked set becomes exactly these',
  fields: (t) => ({ deploymentId: t.id({ required: true }), enabled: t.boolean({ required: true }), apiKeyIds: t.idList() }),
});

const LinkApiKeyInput = builder.inputType('LinkApiKeyInput', {
  description: 'linking a linked key, or unlinking an unlinked one, changes nothing and succeeds',
  fields: (t) => ({ deploymentId: t.id({ required: true }), apiKeyId: t.id({ required: true }) }),
});

const UnlinkApiKeyInput = builder.inputType('UnlinkApiKeyInput', {
  fields: (t) => ({ deploymentId: t.id({ required: true }), apiKeyId: t.id({ required: true }) }),
});

const deploymentPayload = (name: string) =>
  builder.simpleObject(name, {
    fields: (t) => ({ deployment: t.field({ type: DeploymentRef }), propagation: t.field({ type: PropagationRef }) }),
  });

const CreateDeploymentPayload = deploymentPayload('CreateDeploymentPayload');
const UpdateDeploymentPayload = deploymentPayload('UpdateDeploymentPayload');
const SetDeploymentAuthPayload = deploymentPayload('SetDeploymentAuthPayload');

const DeleteDeploymentPayload = builder.simpleObject('DeleteDeploymentPayload', {
  fields: (t) => ({ deletedDeploymentId: t.id(), propagation: t.field({ type: PropagationRef }) }),
});

const linkPayload = (name: string) =>
  builder.simpleObject(name, {
    fields: (t) => ({
      deployment: t.field({ type: DeploymentRef }),
      apiKey: t.field({ type: ApiKeyRef }),
      propagation: t.field({ type: PropagationRef }),
    }),
  });

const LinkApiKeyPayload = linkPayload('LinkApiKeyPayload');
const UnlinkApiKeyPayload = linkPayload('UnlinkApiKeyPayload');

builder.mutationFields((t) => ({
  createDeployment: t.field({
    type: CreateDeploymentPayload,
    args: { input: t.arg({ type: CreateDeploymentInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.confirmations.awaitBeforeAnswer(
        createDeployment(ctx.domain, ctx.viewer, {
          ...input,
          projectId: idOf('Project', String(input.projectId), 'projectId'),
          apiKeyIds: keyIds(input.apiKeyIds, 'apiKeyIds'),
        }),
      ),
  }),
  updateDeployment: t.field({
    type: UpdateDeploymentPayload,
    args: { input: t.arg({ type: UpdateDeploymentInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.confirmations.awaitBeforeAnswer(updateDeployment(ctx.domain, ctx.viewer, { ...input, id: idOf('Deployment', String(input.id), 'id') })),
  }),
  deleteDeployment: t.field({
    type: DeleteDeploymentPayload,
    args: { input: t.arg({ type: DeleteDeploymentInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { deletedDeploymentId, propagation } = await ctx.confirmations.awaitBeforeAnswer(
        deleteDeployment(ctx.domain, ctx.viewer, { id: idOf('Deployment', String(input.id), 'id') }),
      );
      return { deletedDeploymentId: globalId('Deployment', deletedDeploymentId), propagation };
    },
  }),
  setDeploymentAuth: t.field({
    type: SetDeploymentAuthPayload,
    description: "the deployment's API Keys tab: toggle and the linked set, saved at once",
    args: { input: t.arg({ type: SetDeploymentAuthInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.confirmations.awaitBeforeAnswer(
        setDeploymentAuth(ctx.domain, ctx.viewer, {
          deploymentId: idOf('Deployment', String(input.deploymentId), 'deploymentId'),
          enabled: input.enabled,
          apiKeyIds: keyIds(input.apiKeyIds, 'apiKeyIds'),
        }),
      ),
  }),
  linkApiKey: t.field({
    type: LinkApiKeyPayload,
    args: { input: t.arg({ type: LinkApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.confirmations.awaitBeforeAnswer(setLink(ctx.domain, ctx.viewer, linkIds(input), true)),
  }),
  unlinkApiKey: t.field({
    type: UnlinkApiKeyPayload,
    args: { input: t.arg({ type: UnlinkApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.confirmations.awaitBeforeAnswer(setLink(ctx.domain, ctx.viewer, linkIds(input), false)),
  }),
}));

function linkIds(input: { deploymentId: string | number; apiKeyId: string | number }) {
  return {
    deploymentId: idOf('Deployment', String(input.deploymentId), 'deploymentId'),
    apiKeyId: idOf('ApiKey', String(input.apiKeyId), 'apiKeyId'),
  };
}
