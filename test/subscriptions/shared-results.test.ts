// A live event is executed once per kind of subscriber and the result shared
// (src/graphql/shared-subscription-results.ts): each subscriber still gets exactly its own
// selection and only its own project's events. (That the execution is shared at all is what
// delivery.test.ts's "once per event" test sees.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createProject } from '../helpers/fixtures.ts';
import { CreateAccessToken } from '../helpers/operations.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';
import { clientPool, collect, EVENTS, startReplica, until, type Replica } from './helpers.ts';

let db: TestDatabase;
let kg: Replica;
const clients = clientPool();

beforeAll(async () => {
  db = await createTestDatabase();
  kg = await startReplica({ env: { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgtest')}:`, KEYGATE_POLL_INTERVAL_MS: '100' } });
});
afterEach(async () => {
  await clients.disposeAll();
  await until(() => kg.stats().subscribers === 0, 5000, 'every subscription to end');
});
afterAll(async () => {
  await kg?.stop();
  await db?.drop();
});

const TYPES_ONLY = `subscription($p: ID!) { projectEvents(projectId: $p) { type revision } }`;

describe('shared subscription results', () => {
  it('gives every subscriber its own selection and only its own project, whoever shares the execution', async () => {
    const p = await createProject(kg);
    const q = await createProject(kg);
    const token = await kg.gql(CreateAccessToken, { input: { name: uniqueName('t'), projectId: p.id } });
    const projectToken = token.data!.createAccessToken.token;

    const admin = clients.open(kg);
    const scoped = clients.open(kg, projectToken);
    const same1 = collect(admin.client, { p: p.id });
    const same2 = collect(admin.client, { p: p.id });
    const sameScoped = collect(scoped.client, { p: p.id });
    const typesOnly = collect(admin.client, { p: p.id }, TYPES_ONLY);
    const other = collect(admin.client, { p: q.id });
    await until(() => kg.stats().subscribers === 5);

    const inP = await createKey(kg, p.id, 'key-in-p');
    const inQ = await createKey(kg, q.id, 'key-in-q');
    await until(() => [same1, same2, sameScoped, typesOnly, other].every((s) => s.events.length === 1), 5000, 'one event each');

    for (const s of [same1, same2, sameScoped]) {
      expect(s.events).toEqual([expect.objectContaining({ type: 'API_KEY_CREATED', revision: inP.propagation.revision, apiKey: { name: 'key-in-p' } })]);
      expect(s.errors).toEqual([]);
    }
    expect(typesOnly.events).toEqual([{ type: 'API_KEY_CREATED', revision: inP.propagation.revision }]);
    expect(other.events).toEqual([expect.objectContaining({ revision: inQ.propagation.revision, apiKey: { name: 'key-in-q' }, projectId: q.id })]);
  });

  it('keeps a subscriber whose variables differ apart from the others', async () => {
    const p = await createProject(kg);
    const c = clients.open(kg);
    const before = kg.stats().subscribers;
    const live = collect(c.client, { p: p.id });
    // Subscribed before the change: a subscription without afterRevision starts at the head.
    await until(() => kg.stats().subscribers === before + 1);
    const first = await createKey(kg, p.id, 'first');
    await until(() => live.events.length === 1);
    const replaying = collect(c.client, { p: p.id, after: 0 }, EVENTS);
    await until(() => replaying.events.length >= 1 && kg.stats().subscribers === before + 2);
    await createKey(kg, p.id, 'second');
    await until(() => live.events.length === 2 && replaying.events.some((e) => e.apiKey?.name === 'second'));
    expect(live.events.map((e) => e.apiKey?.name)).toEqual(['first', 'second']);
    expect(replaying.events.filter((e) => e.revision >= first.propagation.revision).map((e) => e.apiKey?.name)).toEqual(['first', 'second']);
  });

});
