// What subscribers receive: every event, in revision order, on every replica, even when Redis
// loses a message; a slow subscriber is cut with 1013 and loses nothing by resuming; the expiry
// event comes once; nested fields of an event are read once, not once per subscriber.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { LinkApiKey } from '../helpers/operations.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';
import {
  collect,
  commitWithoutPublishing,
  EVENTS,
  rawId,
  rawSocket,
  init,
  sleep,
  sse,
  startReplica,
  until,
  type Received,
  type Replica,
  clientPool,
} from './helpers.ts';

let db: TestDatabase;
/** polls the head every 100 ms */
let a: Replica;
/** polls every 20 s: only the gap check can fill a missed message quickly */
let b: Replica;
/** polls every 100 ms; subscriber queues hold only 5 events */
let small: Replica;
const clients = clientPool();
const MAX_QUEUE = 5;

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgtest')}:` };
  a = await startReplica({ env: { ...env, KEYGATE_POLL_INTERVAL_MS: '100' } });
  b = await startReplica({ env: { ...env, KEYGATE_POLL_INTERVAL_MS: '20000', KEYGATE_MAX_STALENESS_MS: '60000' } });
  small = await startReplica({ env: { ...env, KEYGATE_POLL_INTERVAL_MS: '100' }, tuning: { subscriptions: { maxQueue: MAX_QUEUE } } });
});
afterEach(async () => {
  await clients.disposeAll();
  await until(() => [a, b, small].every((kg) => kg.stats().subscribers === 0), 5000, 'every subscription to end');
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await small?.stop();
  await db?.drop();
});

const ws = (kg: Replica) => clients.open(kg);
const revisions = (events: { revision: number }[]) => events.map((e) => e.revision);
const increasing = (list: number[]) => list.every((r, i) => i === 0 || r > list[i - 1]!);

describe('order and completeness', () => {
  it('concurrent mutations on two replicas reach subscribers on both in the same strictly increasing order', async () => {
    const project = await createProject(a);
    const onA = collect(ws(a).client, { p: project.id });
    const onB = collect(ws(b).client, { p: project.id });
    await until(() => a.stats().subscribers === 1 && b.stats().subscribers === 1);
    await Promise.all(Array.from({ length: 20 }, (_, i) => createKey(i % 2 ? a : b, project.id, `concurrent-${i}`)));
    await until(() => onA.events.length === 20 && onB.events.length === 20, 10_000, '20 events on both');
    expect(revisions(onA.events)).toEqual(revisions(onB.events));
    expect(increasing(revisions(onA.events))).toBe(true);
    expect(new Set(onA.events.map((e) => e.apiKey?.name)).size).toBe(20);
  });

  it('a change whose Redis message was lost is still delivered, in order, before the next one (gap check)', async () => {
    const project = await createProject(a);
    const onA = collect(ws(a).client, { p: project.id });
    const onB = collect(ws(b).client, { p: project.id });
    await until(() => a.stats().subscribers === 1 && b.stats().subscribers === 1);
    const [lost] = await commitWithoutPublishing(db.url, rawId(project.id));
    const next = await createKey(a, project.id, 'after-the-lost-one');
    // b polls only every 20 s: the published revision exposes the gap and b reads the log.
    await until(() => onB.events.length === 2 && onA.events.length === 2, 10_000, 'both events on both replicas'); // well within b's 20 s poll
    for (const s of [onA, onB]) {
      expect(s.events.map((e) => [e.revision, e.actor])).toEqual([
        [lost, 'unpublished'],
        [next.propagation.revision, 'admin'],
      ]);
    }
  });

  it('a lost message with nothing after it is delivered by the head poll', async () => {
    const project = await createProject(a);
    const onA = collect(ws(a).client, { p: project.id });
    await until(() => a.stats().subscribers === 1);
    const lost = await commitWithoutPublishing(db.url, rawId(project.id), 3);
    await until(() => onA.events.length === 3, 10_000, 'the lost events');
    expect(revisions(onA.events)).toEqual(lost);
  });
});

describe('slow consumers', () => {
  it('closes a graphql-ws subscriber whose queue overflows with 1013; resuming with afterRevision loses nothing', async () => {
    const project = await createProject(a);
    const first = await createKey(a, project.id, 'before-the-burst');
    const slow = await rawSocket(small.url);
    slow.send(init());
    await until(() => slow.messages.some((m) => m.type === 'connection_ack'));
    slow.send({ type: 'subscribe', id: '1', payload: { query: EVENTS, variables: { p: project.id, after: first.propagation.revision - 1 } } });
    await until(() => slow.messages.some((m) => m.type === 'next'));
    const overSse = await sse(small.url, EVENTS, { p: project.id });
    await until(() => small.stats().subscribers === 2);

    // More events at once than a subscriber may hold: the head poll applies them in one go.
    const burst = await commitWithoutPublishing(db.url, rawId(project.id), MAX_QUEUE * 3);
    const closed = await slow.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toMatch(/too slowly.*afterRevision/);
    await overSse.ended;
    expect(overSse.events.at(-1)?.data.errors[0]).toMatchObject({ extensions: { code: 'UNAVAILABLE' }, message: expect.stringMatching(/afterRevision/) });
    await until(() => small.stats().subscribers === 0, 10_000, 'the slow subscriptions to end');

    const seen = slow.messages.filter((m) => m.type === 'next').map((m) => (m.payload as { data: { projectEvents: Received } }).data.projectEvents.revision);
    const resumed = collect(ws(small).client, { p: project.id, after: seen.at(-1) });
    await until(() => resumed.events.length === burst.length, 5000, 'the resumed replay');
    const later = await createKey(b, project.id, 'after-resuming');
    await until(() => resumed.events.length === burst.length + 1);
    expect([...seen, ...revisions(resumed.events)]).toEqual([first.propagation.revision, ...burst, later.propagation.revision]);
  });
});

describe('API_KEY_EXPIRED', () => {
  it('reaches subscribers on both replicas exactly once', async () => {
    const project = await createProject(a);
    const onA = collect(ws(a).client, { p: project.id });
    const onB = collect(ws(b).client, { p: project.id });
    await until(() => a.stats().subscribers === 1 && b.stats().subscribers === 1);
    // Far enough ahead that the key is still valid when the mutation is read on a loaded machine.
    await createKey(a, project.id, 'short-lived', { expiresAt: new Date(Date.now() + 3000).toISOString() });
    const expired = (s: { events: Received[] }) => s.events.filter((e) => e.type === 'API_KEY_EXPIRED');
    await until(() => expired(onA).length > 0 && expired(onB).length > 0, 10_000, 'the expiry event');
    await sleep(2500); // both sweepers run again meanwhile
    for (const s of [onA, onB]) {
      expect(expired(s).map((e) => [e.actor, e.apiKey?.name])).toEqual([[null, 'short-lived']]);
    }
  });
});

describe('shared reads', () => {
  const NESTED = `subscription($p: ID!) {
    projectEvents(projectId: $p) {
      revision
      apiKey { name project { slug } deployments { name endpointUrl project { slug } apiKeys { name } } }
      deployment { name apiKeys { name } }
    }
  }`;

  /** Reads a replica sends while fanning out; the head poll, the expiry sweeper (with its BEGIN/COMMIT) and token checks excluded. */
  const fanOutQueries = (kg: Replica) => kg.queries.filter((q) => /^\s*SELECT/i.test(q) && !/feed_state|change_events|expiry_announced|expiring_announced|access_tokens/.test(q));

  async function queriesFor(subscribers: number): Promise<number> {
    const project = await createProject(b);
    const dep = await createDeployment(b, project.id, 'shared-reads');
    const c = ws(a);
    const subs = Array.from({ length: subscribers }, () => collect(c.client, { p: project.id }, NESTED));
    await until(() => a.stats().subscribers === subscribers);
    a.queries.length = 0;
    const key = await createKey(b, project.id, 'shared-key');
    await b.gql(LinkApiKey, { input: { deploymentId: dep.id, apiKeyId: key.apiKey.id } });
    await until(() => subs.every((s) => s.events.length === 2), 5000, 'two events for every subscriber');
    expect(subs.every((s) => s.errors.length === 0)).toBe(true);
    const count = fanOutQueries(a).length;
    await c.dispose();
    await until(() => a.stats().subscribers === 0);
    return count;
  }

  it('reads apiKey/deployment and their nested fields once per event, not once per subscriber', async () => {
    const one = await queriesFor(1);
    const many = await queriesFor(20);
    expect(one).toBeGreaterThan(0);
    expect(many).toBe(one);
  });
});
