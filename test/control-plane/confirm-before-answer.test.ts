// A mutation answers only after every live proxy confirmed its change, also when the client did
// not select `propagation`: the answer waits for the ack, not for the field.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';

let db: TestDatabase;
let kg: TestKeygate;
beforeAll(async () => {
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgtest')}:`, KEYGATE_PROPAGATION_TIMEOUT_MS: '20000' };
  kg = await startTestKeygate({ env, mode: 'control-plane' });
});
afterAll(async () => {
  await kg?.stop();
  await db?.drop();
});

it('holds the answer until the proxy acks, whether or not propagation was selected', async () => {
  const project = await createProject(kg);
  const feed = kg.running.feed;
  // A proxy that holds a live lease and acks only when the test says so.
  await feed.renewLease('test-proxy', 0, 30_000);
  const published: number[] = [];
  const unsubscribe = await feed.subscribe({ onEvent: (event) => published.push(event.revision) });
  try {
    for (const selection of ['apiKey { id }', 'apiKey { id } propagation { confirmed appliedBy expected }']) {
      let answered = false;
      const mutation = kg
        .gql(`mutation($p: ID!, $n: String!) { createApiKey(input: { projectId: $p, name: $n }) { ${selection} } }`, {
          p: project.id,
          n: `key-${published.length + 1}`,
        })
        .then((r) => {
          answered = true;
          return r;
        });
      while (published.length === 0 || published.length < (selection.includes('propagation') ? 2 : 1)) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 200)); // time enough to answer, were it not waiting
      expect(answered, selection).toBe(false);
      await feed.ack('test-proxy', published.at(-1)!);
      const r = await mutation;
      expect(r.errors).toBeUndefined();
      if (selection.includes('propagation')) expect(r.data!.createApiKey.propagation).toEqual({ confirmed: true, appliedBy: 1, expected: 1 });
    }
  } finally {
    await unsubscribe();
    await feed.dropLease('test-proxy');
  }
});
