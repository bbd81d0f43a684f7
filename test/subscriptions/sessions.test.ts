// Sessions: a deleted or expired access token ends its subscriptions on every replica; a
// resume below the retained log is refused; stop() closes everything; churn leaves nothing behind.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKey, createProject } from '../helpers/fixtures.ts';
import { ADMIN_TOKEN } from '../helpers/keygate.ts';
import { CreateAccessToken, DeleteAccessToken } from '../helpers/operations.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';
import {
  collect,
  connect,
  EVENTS,
  init,
  rawSocket,
  redisSubscribers,
  sleep,
  sql,
  sse,
  startReplica,
  until,
  type Replica,
  clientPool,
} from './helpers.ts';

let db: TestDatabase;
let a: Replica;
let b: Replica;
let redis: Redis;
const prefix = `${uniqueName('kgtest')}:`;
const env = () => ({ DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: prefix });
const tuning = { subscriptions: { tokenCheckMs: 200 } };
const clients = clientPool();

beforeAll(async () => {
  db = await createTestDatabase();
  a = await startReplica({ env: env(), tuning });
  b = await startReplica({ env: env(), tuning });
  redis = new Redis(REDIS_URL);
});
afterEach(async () => {
  await clients.disposeAll();
});
afterAll(async () => {
  redis?.disconnect();
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

const ws = (kg: Replica, token?: string | null) => clients.open(kg, token);

async function projectToken(projectId: string, expiresAt?: string) {
  const r = await a.gql(CreateAccessToken, { input: { name: uniqueName('tok'), projectId, ...(expiresAt ? { expiresAt } : {}) } });
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.createAccessToken;
}

describe('access tokens', () => {
  it('deleting a token ends its sessions and subscriptions on every replica within seconds; the env admin token is unaffected', async () => {
    const project = await createProject(a);
    const token = await projectToken(project.id);
    const onA = ws(a, token.token);
    const onB = ws(b, token.token);
    const subA = collect(onA.client, { p: project.id });
    const subB = collect(onB.client, { p: project.id });
    const overSse = await sse(b.url, EVENTS, { p: project.id }, token.token);
    const admin = ws(a, ADMIN_TOKEN);
    const adminSub = collect(admin.client, { p: project.id });
    await until(() => a.stats().subscribers === 2 && b.stats().subscribers === 2, 5000, 'four subscriptions');
    expect(a.stats().tokenWatchers).toBeGreaterThan(0);

    const deleted = Date.now();
    expect((await a.gql(DeleteAccessToken, { input: { id: token.id } })).data?.deleteAccessToken.deletedAccessTokenId).toBe(token.id);
    await until(() => onA.closes.length > 0 && onB.closes.length > 0, 3000, 'both sessions to close');
    await overSse.ended;
    const took = Date.now() - deleted;
    expect(took).toBeLessThan(2000);
    expect([onA.closes, onB.closes]).toEqual([[4403], [4403]]);
    expect(overSse.events.at(-1)?.data.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(subA.errors.length + subB.errors.length).toBeGreaterThan(0);
    await until(() => a.stats().subscribers === 1 && b.stats().subscribers === 0);
    expect(a.stats().tokenWatchers + b.stats().tokenWatchers).toBe(0);

    // The admin's session goes on; the deleted token cannot come back.
    await createKey(b, project.id, 'after-deletion');
    await until(() => adminSub.events.length === 1);
    const again = await rawSocket(a.url);
    again.send(init(token.token));
    expect((await again.closed).code).toBe(4403);
    expect(admin.closes).toEqual([]);
  });

  it('a token that expires ends its session the same way', async () => {
    const project = await createProject(a);
    // Time enough to open the session while the token is valid (the mutation, the connection and the
    // subscription can take more than a second on a loaded machine: an expired token is refused at once).
    const token = await projectToken(project.id, new Date(Date.now() + 5000).toISOString());
    const s = ws(b, token.token);
    collect(s.client, { p: project.id });
    await until(() => b.stats().subscribers === 1);
    await until(() => s.closes.length > 0, 15_000, 'the expired session to close');
    expect(s.closes).toEqual([4403]);
    await until(() => b.stats().subscribers === 0);
  });
});

describe('resume', () => {
  it('RESYNC_REQUIRED when revisions after afterRevision are no longer all retained; the boundary itself resumes', async () => {
    const project = await createProject(a);
    const k1 = await createKey(a, project.id, 'pruned-one');
    const k2 = await createKey(a, project.id, 'pruned-two');
    const k3 = await createKey(a, project.id, 'kept-three');
    // As the pruner would leave it: everything up to k2 gone.
    await sql(db.url, 'DELETE FROM change_events WHERE revision <= $1', [k2.propagation.revision]);
    const c = ws(b);
    const tooOld = collect(c.client, { p: project.id, after: k1.propagation.revision });
    const boundary = collect(c.client, { p: project.id, after: k2.propagation.revision });
    await until(() => tooOld.errors.length > 0 && boundary.events.length === 1);
    expect(JSON.stringify(tooOld.errors)).toContain('RESYNC_REQUIRED');
    expect(boundary.events.map((e) => e.revision)).toEqual([k3.propagation.revision]);
  });
});

describe('stop()', () => {
  it('closes graphql-ws sockets (1001), ends SSE streams and every subscription, promptly', async () => {
    const c = await startReplica({ env: env() });
    const project = await createProject(c);
    const client = connect(c.url);
    const sub = collect(client.client, { p: project.id });
    const stream = await sse(c.url, EVENTS, { p: project.id });
    const waiting = await rawSocket(c.url); // connected, never initialised
    await until(() => c.stats().subscribers === 2 && c.stats().wsClients === 2);

    const started = Date.now();
    await c.stop();
    expect(Date.now() - started).toBeLessThan(3000);
    await until(() => client.closes.length > 0);
    expect(client.closes).toEqual([1001]);
    expect((await waiting.closed).code).toBe(1001);
    await stream.ended;
    expect(c.stats()).toMatchObject({ wsClients: 0, subscribers: 0, tokenWatchers: 0 });
    expect(sub.events).toEqual([]);
    expect(sub.errors).toHaveLength(1); // the close itself, not a terminal subscription error
    expect(stream.events.at(-1)?.data.errors[0].extensions.code).toBe('UNAVAILABLE');
    await client.dispose();
  });
});

describe('churn', () => {
  it('500 subscribe/unsubscribe cycles leave subscriber, listener, socket and Redis subscription counts where they started', async () => {
    const project = await createProject(a);
    const first = await createKey(a, project.id, 'replayed-to-everyone');
    const after = first.propagation.revision - 1; // every subscription gets one replayed event at once
    const token = (await projectToken(project.id)).token;
    const counts = async () => ({ ...a.stats(), redisSubscribers: await redisSubscribers(redis, prefix) });
    await until(() => a.stats().wsClients === 0 && a.stats().subscribers === 0);
    const before = await counts();

    const longLived = connect(a.url, token);
    const cycle = async (i: number) => {
      switch (i % 4) {
        case 0: {
          // a connection per subscription, closed by the client
          const c = connect(a.url, i % 8 === 0 ? token : ADMIN_TOKEN);
          const s = collect(c.client, { p: project.id, after });
          await until(() => s.events.length === 1);
          await c.dispose();
          return;
        }
        case 1: {
          // subscribe and complete on one long-lived connection
          const s = collect(longLived.client, { p: project.id, after });
          await until(() => s.events.length === 1);
          s.dispose();
          return;
        }
        case 2: {
          // SSE, aborted by the client
          const s = await sse(a.url, EVENTS, { p: project.id, after }, i % 8 === 2 ? token : ADMIN_TOKEN);
          await until(() => s.events.length === 1);
          s.abort();
          await s.ended;
          return;
        }
        default: {
          // the client vanishes without a close frame
          const r = await rawSocket(a.url);
          r.send(init(token));
          await until(() => r.messages.some((m) => m.type === 'connection_ack'));
          r.send({ type: 'subscribe', id: 's', payload: { query: EVENTS, variables: { p: project.id, after } } });
          await until(() => r.messages.some((m) => m.type === 'next'));
          r.ws.terminate();
        }
      }
    };
    for (let i = 0; i < 500; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => cycle(i + j)));
    await longLived.dispose();

    await until(() => a.stats().wsClients === before.wsClients && a.stats().subscribers === before.subscribers, 5000, 'the server to let go');
    await sleep(200);
    const afterChurn = await counts();
    console.log('churn counts', JSON.stringify({ before, after: afterChurn }));
    expect(afterChurn).toEqual(before);
    expect(before.feedListeners).toBe(1);
    expect(before.redisSubscribers).toBe(2); // one subscription per replica, whatever the clients do

    // And the replica still delivers.
    const s = collect(ws(a).client, { p: project.id });
    await until(() => a.stats().subscribers === 1);
    await createKey(b, project.id, 'after-churn');
    await until(() => s.events.length === 1);
  }, 60_000);
});
