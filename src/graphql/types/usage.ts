// Usage (docs/api.md, "Usage"): the Long scalar, series of buckets on keys, deployments and projects, and
// the live `usageUpdates` subscription. A series' query cost counts its buckets.
import { queryFromInfo } from '@pothos/plugin-prisma';
import { GraphQLError, type GraphQLResolveInfo, Kind } from 'graphql';
import { sqlOfPrisma } from '../../db/sql.ts';
import {
  GRANULARITIES,
  type Granularity,
  readUsageBuckets,
  readUsageTotals,
  type UsageBucketRow,
  type UsageOwner,
  type UsageScope,
} from '../../db/statements/index.ts';
import { findReachableProject } from '../../domain/projects.ts';
import { bucketCount, usageRange } from '../../domain/usage-range.ts';
import { MAX_USAGE_RANKING, rankingIds, rankingSize } from '../../domain/usage-ranking.ts';
import { addCounts, emptyCounts } from '../../usage/aggregator.ts';
import { builder } from '../builder.ts';
import type { DeliveredUsage, GraphQLContext, ModelQuery } from '../context.ts';
import { globalId, idOf } from '../ids.ts';
import { ApiKeyRef } from './api-key.ts';
import { DeploymentRef } from './deployment.ts';
import { ProjectRef } from './project.ts';

function parseLong(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new GraphQLError('Long must be an integer between -(2^53 - 1) and 2^53 - 1', { extensions: { code: 'BAD_USER_INPUT' } });
}

builder.scalarType('Long', {
  description: 'an integer up to 2^53 - 1, sent as a JSON number',
  serialize: (value) => parseLong(value),
  parseValue: parseLong,
  parseLiteral: (ast) => parseLong(ast.kind === Kind.INT ? Number(ast.value) : null),
});

const UsageGranularity = builder.enumType('UsageGranularity', { values: GRANULARITIES });

const UsageBucket = builder.objectRef<UsageBucketRow>('UsageBucket').implement({
  fields: (t) => ({
    start: t.expose('start', { type: 'DateTime', description: 'bucket start, UTC, aligned to the granularity' }),
    requests: t.expose('requests', { type: 'Long', description: 'requests forwarded to the upstream' }),
    errors: t.expose('errors', { type: 'Long', description: 'of those, answered 5xx by the upstream, or 502/504 by keygate' }),
    rejected: t.expose('rejected', {
      type: 'Long',
      description: 'refused by keygate with 401 (for a key: requests that presented this key to a deployment it does not open)',
    }),
    rateLimited: t.expose('rateLimited', { type: 'Long', description: 'refused by keygate with 429' }),
    promptTokens: t.expose('promptTokens', {
      type: 'Long',
      description: 'from the OpenAI-compatible `usage` object of the response (JSON, or any SSE event carrying one); 0 when absent',
    }),
    completionTokens: t.expose('completionTokens', { type: 'Long' }),
  }),
});

interface Series {
  granularity: Granularity;
  from: Date;
  to: Date;
  buckets: UsageBucketRow[];
}

const UsageSeries = builder.objectRef<Series>('UsageSeries').implement({
  fields: (t) => ({
    granularity: t.field({ type: UsageGranularity, resolve: (s) => s.granularity }),
    from: t.expose('from', { type: 'DateTime' }),
    to: t.expose('to', { type: 'DateTime' }),
    total: t.field({
      type: UsageBucket,
      description: 'sum over [from, to)',
      resolve: (s) => {
        const total = { start: s.from, ...emptyCounts() };
        for (const b of s.buckets) addCounts(total, b);
        return total;
      },
    }),
    buckets: t.field({ type: [UsageBucket], description: 'only buckets with activity, ascending by start', resolve: (s) => s.buckets }),
  }),
});

interface RangeArgs {
  from: Date;
  to?: Date | null;
  granularity?: Granularity | null;
}

/** The arguments every `usage` field takes beside its narrowing one. */
const rangeArgs = () =>
  builder.args((t) => ({
    from: t.field({ type: 'DateTime', required: true }),
    to: t.field({ type: 'DateTime', description: 'defaults to now' }),
    granularity: t.field({ type: UsageGranularity, defaultValue: 'HOUR' }),
  }));

/** A series costs one per bucket of its range (complexity.ts). */
const bucketComplexity = (args: RangeArgs) => ({ field: 1, multiplier: bucketCount(args.granularity ?? 'HOUR', args.from, args.to) });

async function readSeries(ctx: GraphQLContext, scope: UsageScope, args: RangeArgs): Promise<Series> {
  const range = usageRange(args.granularity ?? 'HOUR', args.from, args.to);
  ctx.budget.check(); // a database read: past the request's deadline, the request is cut here (operation-limits.ts)
  const buckets = await readUsageBuckets(sqlOfPrisma(ctx.prisma), scope, range.granularity, range.from, range.to);
  return { granularity: range.granularity, from: range.from, to: range.to, buckets };
}

/** What every usage field shares: its type and its cost. */
const seriesField = { type: UsageSeries, complexity: bucketComplexity } as const;

/** A narrowing id argument: undefined when absent, BAD_USER_INPUT when malformed. */
const narrowing = (type: 'ApiKey' | 'Deployment', id: string | number | null | undefined, field: string) =>
  id == null ? undefined : idOf(type, String(id), field);

builder.prismaObjectField(ApiKeyRef, 'usage', (t) =>
  t.field({
    ...seriesField,
    description: 'to defaults to now; deploymentId narrows to one deployment',
    args: { ...rangeArgs(), deploymentId: t.arg.id() },
    select: { projectId: true },
    resolve: (key, args, ctx) =>
      readSeries(ctx, { projectId: key.projectId, apiKeyId: key.id, deploymentId: narrowing('Deployment', args.deploymentId, 'deploymentId') }, args),
  }),
);

builder.prismaObjectField(DeploymentRef, 'usage', (t) =>
  t.field({
    ...seriesField,
    description: 'apiKeyId narrows to one key; without it, refused requests that named no known key are included',
    args: { ...rangeArgs(), apiKeyId: t.arg.id() },
    select: { projectId: true },
    resolve: (d, args, ctx) => readSeries(ctx, { projectId: d.projectId, deploymentId: d.id, apiKeyId: narrowing('ApiKey', args.apiKeyId, 'apiKeyId') }, args),
  }),
);

builder.prismaObjectField(ProjectRef, 'usage', (t) =>
  t.field({
    ...seriesField,
    description: "the project's usage; deleting a key or a deployment does not shrink it",
    args: rangeArgs(),
    resolve: (project, args, ctx) => readSeries(ctx, { projectId: project.id }, args),
  }),
);

// Rankings (docs/api.md, "Usage": usageByKey, usageByDeployment): one GROUP BY over the range's
// rows, then the ranked keys or deployments still there read in one query, with the selection
// the client asked for below apiKey/deployment.

interface Ranked<Owner> {
  id: string;
  owner: Owner | null;
  total: UsageBucketRow;
}

const rankingFields = (type: 'ApiKey' | 'Deployment', owner: 'apiKey' | 'deployment', ref: typeof ApiKeyRef | typeof DeploymentRef, gone: string) =>
  builder.objectRef<Ranked<unknown>>(`${type === 'ApiKey' ? 'Key' : type}Usage`).implement({
    fields: (t) => ({
      [`${owner}Id`]: t.id({ resolve: (r) => globalId(type, r.id) }),
      [owner]: t.field({ type: ref as typeof ApiKeyRef, nullable: true, description: gone, resolve: (r) => r.owner as never }),
      total: t.field({ type: UsageBucket, description: 'sum over the range; start is the range start', resolve: (r) => r.total }),
    }),
  });

const KeyUsage = rankingFields('ApiKey', 'apiKey', ApiKeyRef, 'null when the key was deleted (its usage stays)');
const DeploymentUsage = rankingFields('Deployment', 'deployment', DeploymentRef, 'null when the deployment was deleted (its usage stays)');

interface RankingArgs extends RangeArgs {
  first?: number | null;
}

/** A ranking costs one per row it may return (complexity.ts); a bad `first` is refused by the resolver, not by the cost. */
const rankingComplexity = (args: RankingArgs) => ({ field: 1, multiplier: Math.min(Math.max(args.first ?? 10, 1), MAX_USAGE_RANKING) });

/** The ranked keys or deployments that still exist, in one query shaped by the selection below `owner`. */
async function loadOwners(ctx: GraphQLContext, info: GraphQLResolveInfo, owner: UsageOwner, projectId: string, ids: string[]) {
  if (ids.length === 0) return new Map<string, unknown>();
  const query = (await queryFromInfo({ context: ctx, info, path: [owner], awaitSelections: true })) as ModelQuery;
  ctx.budget.check();
  const where = { where: { id: { in: ids }, projectId } };
  const found: { id: string }[] =
    owner === 'apiKey' ? await ctx.prisma.apiKey.findMany({ ...query, ...where } as never) : await ctx.prisma.deployment.findMany({ ...query, ...where } as never);
  return new Map<string, unknown>(found.map((o) => [o.id, o]));
}

async function readRanking(
  ctx: GraphQLContext,
  info: GraphQLResolveInfo,
  owner: UsageOwner,
  projectId: string,
  args: RankingArgs,
  ids?: string[],
): Promise<Ranked<unknown>[]> {
  const first = rankingSize(args.first ?? 10);
  const range = usageRange(args.granularity ?? 'HOUR', args.from, args.to);
  ctx.budget.check();
  const rows = await readUsageTotals(sqlOfPrisma(ctx.prisma), owner, { projectId, granularity: range.granularity, from: range.from, to: range.to }, first, ids);
  const owners = await loadOwners(ctx, info, owner, projectId, rows.map((r) => r.id));
  return rows.map(({ id, ...counts }) => ({ id, owner: owners.get(id) ?? null, total: { start: range.from, ...counts } }));
}

builder.prismaObjectField(ProjectRef, 'usageByKey', (t) =>
  t.field({
    type: [KeyUsage],
    description:
      'totals per key over [from, to) (to defaults to now), most requests first, then most tokens; first 1–100; apiKeyIds (at most 100) narrows to those keys. Refusals that named no known key are left out',
    args: { ...rangeArgs(), first: t.arg.int({ defaultValue: 10 }), apiKeyIds: t.arg.idList() },
    complexity: rankingComplexity,
    resolve: (project, args, ctx, info) => {
      const ids = args.apiKeyIds == null ? undefined : rankingIds(args.apiKeyIds, 'apiKeyIds').map((id) => idOf('ApiKey', String(id), 'apiKeyIds'));
      return readRanking(ctx, info, 'apiKey', project.id, args, ids);
    },
  }),
);

builder.prismaObjectField(ProjectRef, 'usageByDeployment', (t) =>
  t.field({
    type: [DeploymentUsage],
    description: 'totals per deployment over [from, to) (to defaults to now), most requests first, then most tokens; first 1–100',
    args: { ...rangeArgs(), first: t.arg.int({ defaultValue: 10 }) },
    complexity: rankingComplexity,
    resolve: (project, args, ctx, info) => readRanking(ctx, info, 'deployment', project.id, args),
  }),
);

const UsageUpdate = builder.objectRef<DeliveredUsage>('UsageUpdate').implement({
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime', description: 'the end of the interval these counts cover' }),
    deploymentId: t.id({ resolve: (u) => globalId('Deployment', u.deploymentId) }),
    apiKeyId: t.id({
      nullable: true,
      description: 'null for refused requests that named no known key',
      resolve: (u) => (u.apiKeyId === null ? null : globalId('ApiKey', u.apiKeyId)),
    }),
    requests: t.expose('requests', { type: 'Long' }),
    errors: t.expose('errors', { type: 'Long' }),
    rejected: t.expose('rejected', { type: 'Long' }),
    rateLimited: t.expose('rateLimited', { type: 'Long' }),
    promptTokens: t.expose('promptTokens', { type: 'Long' }),
    completionTokens: t.expose('completionTokens', { type: 'Long' }),
  }),
});

builder.subscriptionField('usageUpdates', (t) =>
  t.field({
    type: UsageUpdate,
    description: "the project's new usage as it is recorded (at least every 5 s while there is traffic): one update per (key, deployment) with activity",
    args: { projectId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const projectId = idOf('Project', String(args.projectId), 'projectId');
      await findReachableProject(ctx.prisma, ctx.viewer, projectId);
      return ctx.usage.stream(projectId, { tokenId: ctx.viewer.tokenId });
    },
    resolve: (u) => u,
  }),
);
