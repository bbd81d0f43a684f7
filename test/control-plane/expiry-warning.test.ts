// API_KEY_EXPIRING: once per key within seconds of its expiresAt entering the warning window
// (also for a key created or moved inside it), once across two control planes, before
// API_KEY_EXPIRED; ApiKey.expiresSoon says the same on the API.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKey, createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { UpdateApiKey } from '../helpers/operations.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let db: TestDatabase;
let a: TestKeygate;
let b: TestKeygate;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  // Two control planes on one database, a one-hour window: each event must still be recorded once.
  const env = { DATABASE_URL: db.url, KEYGATE_EXPIRY_WARNING_HOURS: '1' };
  a = await startTestKeygate({ env });
  b = await startTestKeygate({ env });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The expiry events of one key, in revision order. */
async function expiryEvents(apiKeyId: string): Promise<{ type: string; actor: string | null }[]> {
  const rawId = Buffer.from(apiKeyId, 'base64').toString('utf8').split(':')[1];
  const { rows } = await client.query(
    `SELECT type, actor FROM change_events WHERE payload->>'apiKeyId' = $1 AND type IN ('API_KEY_EXPIRING', 'API_KEY_EXPIRED') ORDER BY revision`,
    [rawId],
  );
  return rows;
}

async function waitForEvents(apiKeyId: string, count: number, ms: number) {
  const end = Date.now() + ms;
  let events = await expiryEvents(apiKeyId);
  while (events.length < count && Date.now() < end) {
    await sleep(200);
    events = await expiryEvents(apiKeyId);
  }
  return events;
}

const expiresSoon = async (kg: TestKeygate, id: string) =>
  (await kg.gql<{ node: { expiresSoon: boolean; expired: boolean } }>(`query($id: ID!) { node(id: $id) { ... on ApiKey { expiresSoon expired } } }`, { id })).data?.node;

it('a key expiring in 20 s with a one-hour window: API_KEY_EXPIRING once within 5 s, then API_KEY_EXPIRED once, across two control planes', async () => {
  const project = await createProject(a);
  const created = Date.now();
  const { apiKey } = await createKey(a, project.id, 'expiring-soon', { expiresAt: new Date(created + 20_000).toISOString() });
  expect(await expiresSoon(b, apiKey.id)).toEqual({ expiresSoon: true, expired: false });

  const warned = await waitForEvents(apiKey.id, 1, 5000);
  expect(warned).toEqual([{ type: 'API_KEY_EXPIRING', actor: null }]);

  const all = await waitForEvents(apiKey.id, 2, 30_000);
  await sleep(2500); // both sweepers have run several times since
  expect(await expiryEvents(apiKey.id)).toEqual(all);
  expect(all).toEqual([
    { type: 'API_KEY_EXPIRING', actor: null },
    { type: 'API_KEY_EXPIRED', actor: null },
  ]);
  expect(await expiresSoon(a, apiKey.id)).toEqual({ expiresSoon: false, expired: true });
}, 60_000);

it('a key outside the window is not warned until an update moves its expiry inside it; moving it out and back in warns again', async () => {
  const project = await createProject(b);
  const { apiKey } = await createKey(b, project.id, 'expiring-later', { expiresAt: new Date(Date.now() + 3 * 3_600_000).toISOString() });
  expect(await expiresSoon(a, apiKey.id)).toEqual({ expiresSoon: false, expired: false });
  await sleep(2500);
  expect(await expiryEvents(apiKey.id)).toEqual([]);

  const inside = await a.gql(UpdateApiKey, { input: { id: apiKey.id, expiresAt: new Date(Date.now() + 30 * 60_000).toISOString() } });
  expect(inside.errors).toBeUndefined();
  expect(await expiresSoon(b, apiKey.id)).toEqual({ expiresSoon: true, expired: false });
  expect(await waitForEvents(apiKey.id, 1, 5000)).toEqual([{ type: 'API_KEY_EXPIRING', actor: null }]);

  await a.gql(UpdateApiKey, { input: { id: apiKey.id, expiresAt: new Date(Date.now() + 3 * 3_600_000).toISOString() } });
  await b.gql(UpdateApiKey, { input: { id: apiKey.id, expiresAt: new Date(Date.now() + 20 * 60_000).toISOString() } });
  const again = await waitForEvents(apiKey.id, 2, 5000);
  await sleep(2000);
  expect(await expiryEvents(apiKey.id)).toEqual(again);
  expect(again.map((e) => e.type)).toEqual(['API_KEY_EXPIRING', 'API_KEY_EXPIRING']);
}, 60_000);
