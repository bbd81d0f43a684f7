// Stopping a control plane (SIGTERM) answers the requests in flight before it closes their
// connections: a mutation still waiting for a proxy's confirmation gets its answer, and new
// connections are refused from the moment the stop begins.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';

let db: TestDatabase;
let kg: TestKeygate;
beforeAll(async () => {
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgdrain')}:`, KEYGATE_PROPAGATION_TIMEOUT_MS: '20000', KEYGATE_DRAIN_MS: '15000' };
  kg = await startTestKeygate({ env, mode: 'control-plane' });
});
afterAll(async () => {
  await kg?.stop();
  await db?.drop();
});

it('a mutation in flight when the stop begins is answered; new connections are refused', async () => {
  const project = await createProject(kg);
  const feed = kg.running.feed;
  // A proxy that holds a live lease and acks when the test says so: the mutation waits for it.
  await feed.renewLease('slow-proxy', 0, 30_000);
  const published: number[] = [];
  const unsubscribe = await feed.subscribe({ onEvent: (event) => published.push(event.revision) });
  const mutation = kg.gql(`mutation($p: ID!) { createApiKey(input: { projectId: $p, name: "in-flight" }) { apiKey { name } propagation { confirmed } } }`, { p: project.id });
  while (published.length === 0) await new Promise((r) => setTimeout(r, 10));

  const stopped = kg.running.stop();
  // The stop waits for the mutation; a new client is not taken any more (the listener closes as
  // the stop begins, before it waits for a background job's run under way; polled, since the stop
  // runs on its own). The mutation is still held meanwhile: nothing has acked it.
  const refused = () =>
    fetch(kg.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }).then(
      () => false,
      () => true,
    );
  await expect.poll(refused, { timeout: 10_000, interval: 50 }).toBe(true);
  await feed.ack('slow-proxy', published.at(-1)!);
  const r = await mutation;
  expect(r.errors).toBeUndefined();
  expect(r.data!.createApiKey).toEqual({ apiKey: { name: 'in-flight' }, propagation: { confirmed: true } });
  await stopped;
  await unsubscribe().catch(() => {});
});
