// The streamed snapshot (cursor pages, link text by page ranges) builds the same table as the whole
// snapshot read, on Postgres and on the embedded store, across page boundaries.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Database, openEmbedded, openPostgres } from '../../src/db/database.ts';
import { sqlOfPrisma } from '../../src/db/sql.ts';
import { readSnapshot, type SnapshotSink, streamSnapshot } from '../../src/feed/change-log.ts';
import { AuthTable, TableBuilder } from '../../src/proxy/auth-table.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function seed(db: Database): Promise<void> {
  const prisma = db.prisma;
  for (const slug of ['acme', 'globex']) {
    const project = await prisma.project.create({ data: { slug, name: slug } });
    const keys = [];
    for (let k = 0; k < 23; k++) {
      keys.push(
        await prisma.apiKey.create({
          data: {
            projectId: project.id,
            name: `key-${k}`,
            prefix: 'kg_test',
            hash: sha(`${slug}-${k}`),
            expiresAt: k % 3 === 0 ? new Date(Date.now() + 1000 * k + 123) : null,
            previousHash: k === 5 ? sha(`${slug}-previous`) : null,
            previousExpiresAt: k === 5 ? new Date(Date.now() + 60_000) : null,
            rateLimitRequests: k === 7 ? 10 : null,
          },
        }),
      );
    }
    for (let d = 0; d < 6; d++) {
      const deployment = await prisma.deployment.create({
        data: { projectId: project.id, name: `dep-${d}`, model: 'm', upstreamUrl: `http://127.0.0.1:${9 + (d % 2)}/v1`, authEnabled: d !== 5 },
      });
      const linked = keys.filter((_, k) => (k + d) % 3 !== 1);
      await prisma.apiKeyLink.createMany({ data: linked.map((k) => ({ apiKeyId: k.id, deploymentId: deployment.id })) });
    }
  }
}

async function compare(db: Database) {
  await seed(db);
  const sql = sqlOfPrisma(db.prisma);
  const whole = new AuthTable();
  whole.load(await readSnapshot(sql));
  for (const paging of [{}, { rows: 4, linkPages: 1 }]) {
    const builder = new TableBuilder();
    const calls = { keyRows: 0, deploymentRows: 0, linkText: 0 };
    const counted: SnapshotSink = {
      projectIds: (ids) => builder.projectIds(ids),
      keyRows: (rows) => (calls.keyRows++, builder.keyRows(rows)),
      deploymentRows: (rows) => (calls.deploymentRows++, builder.deploymentRows(rows)),
      linkText: (links) => (calls.linkText++, builder.linkText(links)),
    };
    const revision = await streamSnapshot(sql, counted, paging);
    // Small pages do split each part (the links span two heap pages): the boundaries are crossed.
    if (paging.rows !== undefined) for (const n of Object.values(calls)) expect(n).toBeGreaterThan(1);
    const streamed = new AuthTable();
    streamed.install(builder, revision);
    expect(streamed.keyCount).toBe(46);
    expect(streamed.deploymentCount).toBe(12);
    expect(streamed.toSnapshot()).toEqual(whole.toSnapshot());
  }
}

describe('streamSnapshot', () => {
  it('on Postgres', async () => {
    const testDb: TestDatabase = await createTestDatabase();
    const db = await openPostgres(testDb.url);
    cleanups.push(() => testDb.drop(), () => db.close());
    await compare(db);
  });

  it('on the embedded store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-stream-'));
    const db = await openEmbedded(dir);
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }), () => db.close());
    await compare(db);
  });
});
