import { projectScope } from '../../domain/access.ts';
import { createApiKey, deleteApiKey, rotateApiKey, updateApiKey } from '../../domain/api-keys.ts';
import { expiresSoon } from '../../domain/expiry.ts';
import { answerChangesAt } from '../answer-validity.ts';
import { builder } from '../builder.ts';
import { nodeConnection } from '../connections.ts';
import { globalId, idOf } from '../ids.ts';
import { PropagationRef } from './propagation.ts';
import { RateLimitInput, RateLimitRef, RateLimitUsageRef, rateLimitOf } from './rate-limit.ts';

// Select mode: a query reads only the columns its fields need, never the key's hash.
export const ApiKeyRef = builder.prismaNode('ApiKey', {
  id: { field: 'id' },
  nullable: true, // node(id:) answers null for an unknown or foreign id, not an error
  // Read with every key (they are small): the fields below resolve from the row without the
  // Prisma plugin's per-field check, which a 1,000-key page pays 3,000 times (docs/api.md, "Lists").
  select: { id: true, name: true, prefix: true, expiresAt: true },
  findUnique: (id, ctx) => ({ id, ...projectScope(ctx.viewer) }),
  fields: (t) => ({
    project: t.relation('project'),
    name: t.string({ resolve: (key) => key.name }),
    description: t.exposeString('description', { nullable: true }),
    prefix: t.string({ description: 'leading characters of the secret, safe to display', resolve: (key) => key.prefix }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'null: never expires' }),
    expired: t.boolean({
      resolve: (key, _args, ctx) => {
        answerChangesAt(ctx, key.expiresAt);
        return key.expiresAt !== null && key.expiresAt.getTime() <= Date.now();
      },
    }),
    expiresSoon: t.boolean({
      description: 'expiresAt is within the warning window (KEYGATE_EXPIRY_WARNING_HOURS, default 72)',
      select: { expiresAt: true },
      resolve: (key, _args, ctx) => expiresSoon(key.expiresAt, ctx.domain.expiryWarningMs),
    }),
    previousPrefix: t.string({
      nullable: true,
      description: 'prefix of the secret that still works during an overlap; null when there is none',
      select: { previousPrefix: true, previousExpiresAt: true },
      resolve: (key) => (inOverlap(key.previousExpiresAt) ? key.previousPrefix : null),
    }),
    previousSecretExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'when the previous secret stops working; null when there is no overlap',
      select: { previousExpiresAt: true },
      resolve: (key) => (inOverlap(key.previousExpiresAt) ? key.previousExpiresAt : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    rateLimit: t.field({
      type: RateLimitRef,
      nullable: true,
      description: 'null: unlimited',
      select: { rateLimitRequests: true, rateLimitTokens: true },
      resolve: (key) => rateLimitOf(key),
    }),
    rateLimitUsage: t.field({
      type: RateLimitUsageRef,
      nullable: true,
      description: 'use in the current 60-second window, fleet-wide and approximate; null when the key has no limit',
      select: { rateLimitRequests: true, rateLimitTokens: true },
      resolve: async (key, _args, ctx) => {
        if (rateLimitOf(key) === null) return null;
        const u = await ctx.rateLimits.read(key.id);
        return { requests: u.requests, tokens: u.tokens, resetsAt: new Date(u.resetsAtMs) };
      },
    }),
  }),
});

/** A rotation overlap is in effect until its end (the proxies check it at request time). */
const inOverlap = (previousExpiresAt: Date | null) => previousExpiresAt !== null && previousExpiresAt.getTime() > Date.now();

export const ApiKeyConnection = nodeConnection(ApiKeyRef, 'ApiKeyConnection');

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    name: t.string({ required: true }),
    description: t.string(),
    expiresAt: t.field({ type: 'DateTime' }),
    rateLimit: t.field({ type: RateLimitInput, description: 'null or omitted: unlimited' }),
  }),
});

const UpdateApiKeyInput = builder.inputType('UpdateApiKeyInput', {
  description: 'omitted fields stay as they are; an explicit expiresAt: null makes the key permanent',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    description: t.string(),
    expiresAt: t.field({ type: 'DateTime' }),
    rateLimit: t.field({ type: RateLimitInput, description: 'rateLimit omitted: unchanged; null: removed' }),
  }),
});

const DeleteApiKeyInput = builder.inputType('DeleteApiKeyInput', {
  description: 'a key still linked to a deployment is not deleted (CONFLICT) unless force: true, which unlinks it in the same change',
  fields: (t) => ({ id: t.id({ required: true }), force: t.boolean({ defaultValue: false }) }),
});

const RotateApiKeyInput = builder.inputType('RotateApiKeyInput', {
  description: 'the current secret keeps working for overlapSeconds (0–2,592,000) after the rotation; 0: it stops at once',
  fields: (t) => ({ id: t.id({ required: true }), overlapSeconds: t.int({ defaultValue: 0 }) }),
});

const RotateApiKeyPayload = builder.simpleObject('RotateApiKeyPayload', {
  description: 'secret is returned here once and never again',
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef }),
    secret: t.string(),
    propagation: t.field({ type: PropagationRef }),
  }),
});

const CreateApiKeyPayload = builder.simpleObject('CreateApiKeyPayload', {
  description: 'secret is returned here once and never again',
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef }),
    secret: t.string(),
    propagation: t.field({ type: PropagationRef }),
  }),
});

const UpdateApiKeyPayload = builder.simpleObject('UpdateApiKeyPayload', {
  fields: (t) => ({ apiKey: t.field({ type: ApiKeyRef }), propagation: t.field({ type: PropagationRef }) }),
});

const DeleteApiKeyPayload = builder.simpleObject('DeleteApiKeyPayload', {
  fields: (t) => ({ deletedApiKeyId: t.id(), propagation: t.field({ type: PropagationRef }) }),
});

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.confirmations.awaitBeforeAnswer(
        createApiKey(ctx.domain, ctx.viewer, { ...input, projectId: idOf('Project', String(input.projectId), 'projectId') }),
      ),
  }),
  updateApiKey: t.field({
    type: UpdateApiKeyPayload,
    args: { input: t.arg({ type: UpdateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.confirmations.awaitBeforeAnswer(updateApiKey(ctx.domain, ctx.viewer, { ...input, id: idOf('ApiKey', String(input.id), 'id') })),
  }),
  rotateApiKey: t.field({
    type: RotateApiKeyPayload,
    description: 'a new secret for the same key: links, name, limits and usage stay; the current secret keeps working for overlapSeconds (0–2,592,000), then stops',
    args: { input: t.arg({ type: RotateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.confirmations.awaitBeforeAnswer(
        rotateApiKey(ctx.domain, ctx.viewer, { id: idOf('ApiKey', String(input.id), 'id'), overlapSeconds: input.overlapSeconds }),
      ),
  }),
  deleteApiKey: t.field({
    type: DeleteApiKeyPayload,
    args: { input: t.arg({ type: DeleteApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { deletedApiKeyId, propagation } = await ctx.confirmations.awaitBeforeAnswer(
        deleteApiKey(ctx.domain, ctx.viewer, { id: idOf('ApiKey', String(input.id), 'id'), force: input.force }),
      );
      return { deletedApiKeyId: globalId('ApiKey', deletedApiKeyId), propagation };
    },
  }),
}));
