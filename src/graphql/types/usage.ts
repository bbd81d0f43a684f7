// Usage (docs/api.md, "Usage"): the Long scalar, series of buckets on keys, deployments and projects, and
// the live `usageUpdates` subscription. A series' query cost counts its buckets.
import { GraphQLError, Kind } from 'graphql';
import { sqlOfPrisma } from '../../db/sql.ts';
import { GRANULARITIES, type Granularity, readUsageBuckets, type UsageBucketRow, type UsageScope } from '../../db/statements/index.ts';
import { findReachableProject } from '../../domain/projects.ts';
import { bucketCount, usageRange } from '../../domain/usage-range.ts';
import { addCounts, emptyCounts } from '../../usage/aggregator.ts';
import { builder } from '../builder.ts';
import type { DeliveredUsage, GraphQLContext } from '../context.ts';
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
