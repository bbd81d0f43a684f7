import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKey, createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { Node } from '../helpers/operations.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let db: TestDatabase;
let a: TestKeygate;
let b: TestKeygate;

beforeAll(async () => {
  db = await createTestDatabase();
  // Two control planes on one database: the expiry event must still be recorded once.
  a = await startTestKeygate({ env: { DATABASE_URL: db.url } });
  b = await startTestKeygate({ env: { DATABASE_URL: db.url } });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

it('records API_KEY_EXPIRED once per key within seconds of expiresAt, with two control planes', async () => {
  const project = await createProject(a);
  // Far enough ahead that the key is still valid when the mutation is read on a loaded machine.
  const soon = new Date(Date.now() + 3000).toISOString();
  const { apiKey } = await createKey(a, project.id, 'short-lived', { expiresAt: soon });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    let rows: { type: string; actor: string | null }[] = [];
    for (let i = 0; i < 40 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      rows = (await client.query(`SELECT type, actor FROM change_events WHERE type = 'API_KEY_EXPIRED'`)).rows;
    }
    expect(rows).toEqual([{ type: 'API_KEY_EXPIRED', actor: null }]);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await client.query(`SELECT count(*)::int AS n FROM change_events WHERE type = 'API_KEY_EXPIRED'`)).rows[0].n).toBe(1);
  } finally {
    await client.end();
  }
  expect((await a.gql(Node, { id: apiKey.id })).data?.node).toMatchObject({ name: 'short-lived' });
  const expired = await b.gql(`query($id: ID!) { node(id: $id) { ... on ApiKey { expired } } }`, { id: apiKey.id });
  expect(expired.data?.node).toEqual({ expired: true });
});
