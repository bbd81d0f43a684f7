// A database whose revision counter (the feed_state row) is missing was not migrated by keygate:
// a change is refused with that reason and writes nothing, so no row exists without its event.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectPostgres, type OpenSql } from '../../src/db/sql.ts';
import { recordKeyCreation } from '../../src/feed/change-log.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let testDb: TestDatabase;
let sql: OpenSql;
const projectId = randomUUID();

beforeAll(async () => {
  testDb = await createTestDatabase();
  sql = await connectPostgres(testDb.url);
  await sql.query(`INSERT INTO projects (id, slug, name) VALUES ($1::uuid, 'acme', 'Acme')`, [projectId]);
});

afterAll(async () => {
  await sql?.close();
  await testDb?.drop();
});

const newKey = (name: string) => ({
  id: randomUUID(),
  projectId,
  name,
  description: null,
  prefix: 'kg_abcd1234',
  hash: randomUUID(),
  expiresAt: null,
  createdAt: new Date(),
  rateLimitRequests: null,
  rateLimitTokens: null,
});
const created = (name: string) => ({ projectId, type: 'API_KEY_CREATED' as const, payload: { apiKeyId: name } });

it('creates a key with its event while the counter is there, and refuses without writing once it is gone', async () => {
  const first = await recordKeyCreation(sql, 'admin', newKey('first'), created('first'));
  expect(first.apiKey?.name).toBe('first');
  expect(first.event?.revision).toBe(1);

  await sql.query('DELETE FROM feed_state');
  await expect(recordKeyCreation(sql, 'admin', newKey('second'), created('second'))).rejects.toThrow(/feed_state row is missing/);
  const rows = await sql.query<{ name: string }>('SELECT name FROM api_keys ORDER BY name');
  expect(rows.map((r) => r.name)).toEqual(['first']);
  const events = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM change_events');
  expect(events).toEqual([{ n: 1 }]);
});
