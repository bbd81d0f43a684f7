// The usage tables' statements: the proxies' additive flush, the API's reads, retention.
import type { Sql } from '../sql.ts';
import { keysUsedParams, keysUsedUpdate } from './api-keys.ts';
import type { UsageCounts, UsageRow } from '../../usage/aggregator.ts';

export const GRANULARITIES = ['MINUTE', 'HOUR', 'DAY'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** Stands for "no known key" in api_key_id, which is part of the primary key and so not null. */
export const NO_KEY_ID = '00000000-0000-0000-0000-000000000000';

/** How long each granularity is kept (DESIGN/API: MINUTE ≥ 48 h, HOUR and DAY ≥ 400 days). */
export const RETENTION_HOURS: Readonly<Record<Granularity, number>> = { MINUTE: 72, HOUR: 410 * 24, DAY: 410 * 24 };

const COUNT_COLUMNS = ['requests', 'errors', 'rejected', 'rate_limited', 'prompt_tokens', 'completion_tokens'] as const;

/**
 * Adds the rows to their MINUTE, HOUR and DAY buckets and moves each key's lastUsedAt forward, in one
 * statement (so one atomic write, and one round trip). Rows are summed per bucket first: an upsert
 * may touch each row once. Returns how many bucket rows were written.
 */
export async function addUsage(sql: Sql, rows: readonly UsageRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <T>(pick: (r: UsageRow) => T) => rows.map(pick);
  const lastUsed = new Map<string, number>();
  for (const r of rows) {
    if (r.apiKeyId !== null && r.lastUsedAt > (lastUsed.get(r.apiKeyId) ?? 0)) lastUsed.set(r.apiKeyId, r.lastUsedAt);
  }
  const [result] = await sql.query<{ written: number }>(
    `WITH input AS (
       SELECT * FROM unnest($1::timestamptz[], $2::uuid[], $3::uuid[], $4::uuid[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[])
         AS t(minute, project_id, deployment_id, api_key_id, ${COUNT_COLUMNS.join(', ')})
     ), buckets AS (
       SELECT g.granularity, date_trunc(g.unit, i.minute, 'UTC') AS bucket_start, i.project_id, i.deployment_id, i.api_key_id,
              ${COUNT_COLUMNS.map((c) => `sum(i.${c}) AS ${c}`).join(', ')}
         FROM input i CROSS JOIN (VALUES ('MINUTE', 'minute'), ('HOUR', 'hour'), ('DAY', 'day')) AS g(granularity, unit)
        GROUP BY 1, 2, 3, 4, 5
     ), written AS (
       INSERT INTO usage_counts (granularity, bucket_start, project_id, deployment_id, api_key_id, ${COUNT_COLUMNS.join(', ')})
       -- One lock order for every writer, so two proxies flushing the same buckets never deadlock.
       SELECT * FROM buckets ORDER BY deployment_id, granularity, bucket_start, api_key_id
       ON CONFLICT (deployment_id, granularity, bucket_start, api_key_id) DO UPDATE SET
         ${COUNT_COLUMNS.map((c) => `${c} = usage_counts.${c} + EXCLUDED.${c}`).join(', ')}
       RETURNING 1
     ), used AS (
       ${keysUsedUpdate('$11', '$12')}
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM written)::int AS written`,
    [
      col((r) => new Date(r.minute).toISOString()),
      col((r) => r.projectId),
      col((r) => r.deploymentId),
      col((r) => r.apiKeyId ?? NO_KEY_ID),
      col((r) => r.requests),
      col((r) => r.errors),
      col((r) => r.rejected),
      col((r) => r.rateLimited),
      col((r) => r.promptTokens),
      col((r) => r.completionTokens),
      ...keysUsedParams(lastUsed),
    ],
  );
  return Number(result?.written ?? 0);
}

/** Whose usage a series sums: a project's, narrowed to a deployment and/or a key. */
export interface UsageScope {
  projectId: string;
  deploymentId?: string;
  apiKeyId?: string;
}

export interface UsageBucketRow extends UsageCounts {
  start: Date;
}

/** The buckets with activity in [from, to), ascending by start, summed over the scope. */
export async function readUsageBuckets(
  sql: Sql,
  scope: UsageScope,
  granularity: Granularity,
  from: Date,
  to: Date,
): Promise<UsageBucketRow[]> {
  const params: unknown[] = [scope.projectId, granularity, from.toISOString(), to.toISOString()];
  const where = ['project_id = $1::uuid', 'granularity = $2', 'bucket_start >= $3::timestamptz', 'bucket_start < $4::timestamptz'];
  if (scope.deploymentId !== undefined) where.push(`deployment_id = $${params.push(scope.deploymentId)}::uuid`);
  if (scope.apiKeyId !== undefined) where.push(`api_key_id = $${params.push(scope.apiKeyId)}::uuid`);
  // Sums as float8: exact below 2^53 (the Long scalar's range), and a plain number from every driver.
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT bucket_start AS start, ${COUNT_COLUMNS.map((c) => `sum(${c})::float8 AS ${c}`).join(', ')}
       FROM usage_counts
      WHERE ${where.join(' AND ')}
      GROUP BY bucket_start
      ORDER BY bucket_start`,
    params,
  );
  return rows.map((r) => ({ start: r.start instanceof Date ? r.start : new Date(String(r.start)), ...countsOf(r) }));
}

/** A row's summed count columns as numbers. */
const countsOf = (r: Record<string, unknown>): UsageCounts => ({
  requests: Number(r.requests),
    errors: Number(r.errors),
    rejected: Number(r.rejected),
    rateLimited: Number(r.rate_limited),
    promptTokens: Number(r.prompt_tokens),
  completionTokens: Number(r.completion_tokens),
});

/** What a ranking groups usage by. */
export type UsageOwner = 'apiKey' | 'deployment';
const OWNER_COLUMN: Readonly<Record<UsageOwner, string>> = { apiKey: 'api_key_id', deployment: 'deployment_id' };

export interface UsageTotalRow extends UsageCounts {
  id: string;
}

/**
 * A project's totals over [from, to) per key or per deployment, one GROUP BY over the granularity's
 * rows: most requests first, then most tokens, then id; at most `first`, narrowed to `ids` when
 * given. Per key, refusals that named no known key (NO_KEY_ID) are left out.
 */
export async function readUsageTotals(
  sql: Sql,
  owner: UsageOwner,
  range: { projectId: string; granularity: Granularity; from: Date; to: Date },
  first: number,
  ids?: readonly string[],
): Promise<UsageTotalRow[]> {
  const column = OWNER_COLUMN[owner];
  const params: unknown[] = [range.projectId, range.granularity, range.from.toISOString(), range.to.toISOString(), first];
  const where = ['project_id = $1::uuid', 'granularity = $2', 'bucket_start >= $3::timestamptz', 'bucket_start < $4::timestamptz'];
  if (owner === 'apiKey') where.push(`api_key_id <> '${NO_KEY_ID}'::uuid`);
  if (ids !== undefined) where.push(`${column} = ANY($${params.push([...ids])}::uuid[])`);
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT ${column}::text AS id, ${COUNT_COLUMNS.map((c) => `sum(${c})::float8 AS ${c}`).join(', ')}
       FROM usage_counts
      WHERE ${where.join(' AND ')}
      GROUP BY ${column}
      ORDER BY sum(requests) DESC, sum(prompt_tokens + completion_tokens) DESC, ${column}
      LIMIT $5`,
    params,
  );
  return rows.map((r) => ({ id: String(r.id), ...countsOf(r) }));
}

/** Deletes buckets older than their granularity's retention; returns how many went. */
export async function pruneUsage(sql: Sql, now = new Date()): Promise<number> {
  let pruned = 0;
  for (const granularity of GRANULARITIES) {
    const before = new Date(now.getTime() - RETENTION_HOURS[granularity] * 3_600_000);
    const [r] = await sql.query<{ n: number }>(
      `WITH gone AS (DELETE FROM usage_counts WHERE granularity = $1 AND bucket_start < $2::timestamptz RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [granularity, before.toISOString()],
    );
    pruned += Number(r?.n ?? 0);
  }
  return pruned;
}
