// Usage in the real Postgres (and the embedded store): the flusher's additive upserts into MINUTE,
// HOUR and DAY buckets, lastUsedAt in the same write, retry after a failed write, the bounded
// buffer, retention, and that deleting a key or deployment leaves its usage.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbedded, openPostgres, type Database } from '../../src/db/database.ts';
import { type Sql, sqlOfPrisma } from '../../src/db/sql.ts';
import { addUsage, NO_KEY_ID, pruneUsage, readUsageBuckets } from '../../src/db/statements/usage.ts';
import { UsageAggregator } from '../../src/usage/aggregator.ts';
import { startUsageFlusher } from '../../src/usage/flusher.ts';
import type { UsageBatch } from '../../src/usage/usage-update.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

const log = pino({ level: 'silent' });
let testDb: TestDatabase;
let db: Database;
let sql: Sql;

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openPostgres(testDb.url, { poolSize: 4 });
  sql = sqlOfPrisma(db.prisma);
});
afterAll(async () => {
  await db?.close();
  await testDb?.drop();
});

/** A project with one key and one deployment, straight in the tables. */
async function world(target: Sql) {
  const projectId = randomUUID();
  const keyId = randomUUID();
  const deploymentId = randomUUID();
  await target.execute(`INSERT INTO projects (id, slug, name) VALUES ($1::uuid, $2, 'p')`, [projectId, `p-${projectId.slice(0, 8)}`]);
  await target.execute(`INSERT INTO api_keys (id, project_id, name, prefix, hash) VALUES ($1::uuid, $2::uuid, 'key-one', 'kg_x', $3)`, [keyId, projectId, randomUUID()]);
  await target.execute(`INSERT INTO deployments (id, project_id, name, model, upstream_url, updated_at) VALUES ($1::uuid, $2::uuid, 'd', 'm', 'http://x', now())`, [deploymentId, projectId]);
  return { projectId, keyId, deploymentId, deployment: { id: deploymentId, projectId } };
}

const T0 = Date.parse('2026-11-30T10:58:30Z');

describe('usage store', () => {
  it('adds every flush to its MINUTE, HOUR and DAY buckets and moves lastUsedAt', async () => {
    const w = await world(sql);
    let now = T0;
    const aggregator = new UsageAggregator(() => now);
    const published: UsageBatch[] = [];
    const flusher = startUsageFlusher({
      aggregator,
      write: (rows) => addUsage(sql, rows),
      publish: async (b) => void published.push(b),
      log,
      registry: new Registry(),
      now: () => now,
    });
    aggregator.forwarded(w.deployment, w.keyId, false);
    aggregator.tokens(w.deployment, w.keyId, 10, 20);
    aggregator.forwarded(w.deployment, w.keyId, true);
    aggregator.rejected(w.deployment, null);
    now = T0 + 60_000; // 10:59:30
    aggregator.forwarded(w.deployment, w.keyId, false);
    aggregator.rejected(w.deployment, w.keyId);
    await flusher.flush();
    now = T0 + 120_000; // 11:00:30, the next hour
    aggregator.forwarded(w.deployment, w.keyId, false);
    aggregator.tokens(w.deployment, w.keyId, 1, 2);
    await flusher.flush();
    await flusher.stop();

    const from = new Date('2026-11-30T00:00:00Z');
    const to = new Date('2026-12-01T00:00:00Z');
    const minutes = await readUsageBuckets(sql, { projectId: w.projectId, apiKeyId: w.keyId }, 'MINUTE', from, to);
    expect(minutes).toEqual([
      { start: new Date('2026-11-30T10:58:00Z'), requests: 2, errors: 1, rejected: 0, rateLimited: 0, promptTokens: 10, completionTokens: 20 },
      { start: new Date('2026-11-30T10:59:00Z'), requests: 1, errors: 0, rejected: 1, rateLimited: 0, promptTokens: 0, completionTokens: 0 },
      { start: new Date('2026-11-30T11:00:00Z'), requests: 1, errors: 0, rejected: 0, rateLimited: 0, promptTokens: 1, completionTokens: 2 },
    ]);
    const hours = await readUsageBuckets(sql, { projectId: w.projectId, deploymentId: w.deploymentId }, 'HOUR', from, to);
    expect(hours.map((h) => [h.start.toISOString(), h.requests, h.rejected, h.promptTokens])).toEqual([
      ['2026-11-30T10:00:00.000Z', 3, 2, 10], // the keyless refusal is the deployment's
      ['2026-11-30T11:00:00.000Z', 1, 0, 1],
    ]);
    const days = await readUsageBuckets(sql, { projectId: w.projectId }, 'DAY', from, to);
    expect(days).toEqual([
      { start: new Date('2026-11-30T00:00:00Z'), requests: 4, errors: 1, rejected: 2, rateLimited: 0, promptTokens: 11, completionTokens: 22 },
    ]);
    // A range that ends before a bucket leaves it out.
    expect(await readUsageBuckets(sql, { projectId: w.projectId }, 'MINUTE', from, new Date('2026-11-30T10:59:00Z'))).toHaveLength(1);

    const [key] = await sql.query<{ last_used_at: Date }>('SELECT last_used_at FROM api_keys WHERE id = $1::uuid', [w.keyId]);
    expect(key!.last_used_at.toISOString()).toBe(new Date(T0 + 120_000).toISOString());

    // Published: one update per (deployment, key) with activity, per flush.
    expect(published).toHaveLength(2);
    expect(published[0]!.updates).toEqual(
      expect.arrayContaining([
        { projectId: w.projectId, deploymentId: w.deploymentId, apiKeyId: w.keyId, requests: 3, errors: 1, rejected: 1, rateLimited: 0, promptTokens: 10, completionTokens: 20 },
        { projectId: w.projectId, deploymentId: w.deploymentId, apiKeyId: null, requests: 0, errors: 0, rejected: 1, rateLimited: 0, promptTokens: 0, completionTokens: 0 },
      ]),
    );
    expect(published[0]!.at).toBe(new Date(T0 + 60_000).toISOString());

    // Deleting the key and the deployment leaves the project's usage as it was.
    await sql.execute('DELETE FROM deployments WHERE id = $1::uuid', [w.deploymentId]);
    await sql.execute('DELETE FROM api_keys WHERE id = $1::uuid', [w.keyId]);
    expect(await readUsageBuckets(sql, { projectId: w.projectId }, 'DAY', from, to)).toEqual(days);
  });

  it('keeps the counts of a failed write and writes them with the next flush; bounds the buffer', async () => {
    const w = await world(sql);
    const now = T0;
    const aggregator = new UsageAggregator(() => now);
    let failing = true;
    const flusher = startUsageFlusher({
      aggregator,
      write: async (rows) => {
        if (failing) throw new Error('connection refused');
        return addUsage(sql, rows);
      },
      publish: async () => {},
      log,
      registry: new Registry(),
      now: () => now,
    });
    for (let i = 0; i < 5; i++) aggregator.forwarded(w.deployment, w.keyId, false);
    await flusher.flush();
    expect(flusher.pendingRows).toBe(1);
    for (let i = 0; i < 3; i++) aggregator.forwarded(w.deployment, w.keyId, false);
    await flusher.flush();
    failing = false;
    await flusher.stop();
    expect(flusher.pendingRows).toBe(0);
    const [day] = await readUsageBuckets(sql, { projectId: w.projectId }, 'DAY', new Date(T0 - 86_400_000), new Date(T0 + 86_400_000));
    expect(day!.requests).toBe(8);

    // A buffer of 2 rows keeps the two newest minutes.
    let t = T0;
    const small = new UsageAggregator(() => t);
    const registry = new Registry();
    const bounded = startUsageFlusher({ aggregator: small, write: () => Promise.reject(new Error('down')), publish: async () => {}, log, registry, maxPendingRows: 2, now: () => t });
    for (let m = 0; m < 4; m++) {
      t = T0 + m * 60_000;
      small.forwarded(w.deployment, w.keyId, false);
    }
    await bounded.flush();
    expect(bounded.pendingRows).toBe(2);
    expect(await registry.getSingleMetricAsString('keygate_usage_dropped_rows_total')).toMatch(/ 2$/m);
    await bounded.stop();
  });

  it('two writers adding to the same buckets at once lose nothing', async () => {
    const w = await world(sql);
    const rows = (n: number) =>
      Array.from({ length: 50 }, (_, i) => ({
        minute: T0 - (T0 % 60_000) - i * 60_000,
        projectId: w.projectId,
        deploymentId: w.deploymentId,
        apiKeyId: i % 2 ? w.keyId : null,
        lastUsedAt: 0,
        requests: n,
        errors: 0,
        rejected: 0,
        rateLimited: 0,
        promptTokens: n,
        completionTokens: 0,
      }));
    await Promise.all(Array.from({ length: 8 }, () => addUsage(sql, rows(1))));
    const range = [new Date(T0 - 3 * 86_400_000), new Date(T0 + 86_400_000)] as const;
    for (const g of ['MINUTE', 'HOUR', 'DAY'] as const) {
      const buckets = await readUsageBuckets(sql, { projectId: w.projectId }, g, ...range);
      expect(buckets.reduce((n, b) => n + b.requests, 0)).toBe(400);
    }
    const keyless = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM usage_counts WHERE api_key_id = $1::uuid AND project_id = $2::uuid`, [NO_KEY_ID, w.projectId]);
    expect(keyless[0]!.n).toBeGreaterThan(0);
  });

  it('prunes MINUTE buckets after 72 hours and the others after 410 days', async () => {
    const w = await world(sql);
    const now = Date.parse('2027-03-01T00:00:00Z');
    const row = (minute: number) => ({ minute, projectId: w.projectId, deploymentId: w.deploymentId, apiKeyId: w.keyId, lastUsedAt: 0, requests: 1, errors: 0, rejected: 0, rateLimited: 0, promptTokens: 0, completionTokens: 0 });
    await addUsage(sql, [row(now - 73 * 3_600_000), row(now - 71 * 3_600_000), row(now - 411 * 86_400_000)]);
    await pruneUsage(sql, new Date(now));
    const left = await sql.query<{ granularity: string; n: number }>(
      `SELECT granularity, count(*)::int AS n FROM usage_counts WHERE project_id = $1::uuid GROUP BY granularity ORDER BY granularity`,
      [w.projectId],
    );
    expect(left).toEqual([
      { granularity: 'DAY', n: 2 },
      { granularity: 'HOUR', n: 2 },
      { granularity: 'MINUTE', n: 1 },
    ]);
  });
});

describe('usage on the embedded store', () => {
  it('the same statements work through Prisma on PGlite', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keygate-usage-'));
    const embedded = await openEmbedded(dir);
    try {
      const esql = sqlOfPrisma(embedded.prisma);
      const w = await world(esql);
      const aggregator = new UsageAggregator(() => T0);
      aggregator.forwarded(w.deployment, w.keyId, false);
      aggregator.tokens(w.deployment, w.keyId, 3, 4);
      aggregator.rejected(w.deployment, null);
      await addUsage(esql, aggregator.drain());
      const buckets = await readUsageBuckets(esql, { projectId: w.projectId }, 'HOUR', new Date(T0 - 3_600_000), new Date(T0 + 3_600_000));
      expect(buckets).toEqual([{ start: new Date('2026-11-30T10:00:00Z'), requests: 1, errors: 0, rejected: 1, rateLimited: 0, promptTokens: 3, completionTokens: 4 }]);
    } finally {
      await embedded.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
