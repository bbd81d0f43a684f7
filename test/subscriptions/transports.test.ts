// The two subscription transports: GraphQL over SSE (yoga's own) delivers what graphql-ws
// delivers; graphql-ws sessions follow docs/api.md's close codes and keep-alive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { CreateAccessToken, LinkApiKey, UpdateDeployment } from '../helpers/operations.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';
import { clientPool, collect, EVENTS, init, rawSocket, sse, startReplica, until, type Replica } from './helpers.ts';

let db: TestDatabase;
let a: Replica;
let b: Replica;
const clients = clientPool();
const KEEP_ALIVE_MS = 200;

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgtest')}:` };
  const tuning = { subscriptions: { connectionInitWaitMs: 300, keepAliveMs: KEEP_ALIVE_MS } };
  a = await startReplica({ env, tuning });
  b = await startReplica({ env, tuning });
});
afterAll(async () => {
  await clients.disposeAll();
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

const ws = (kg: Replica, token?: string | null) => clients.open(kg, token);

const FULL = `subscription($p: ID!, $after: Int) {
  projectEvents(projectId: $p, afterRevision: $after) {
    type revision actor projectId apiKeyId deploymentId
    apiKey { name deployments { name } }
    deployment { name model endpointUrl apiKeys { name } }
  }
}`;

describe('GraphQL over SSE', () => {
  it('delivers the same events as graphql-ws, live and replayed, whichever replica made the change', async () => {
    const project = await createProject(a);
    const before = await createKey(a, project.id, 'before-subscribing');
    const overSse = await sse(a.url, FULL, { p: project.id });
    const overWs = collect<Record<string, unknown>>(ws(a).client, { p: project.id }, FULL);
    await until(() => a.stats().subscribers === 2, 5000, 'both subscriptions');

    const key = await createKey(b, project.id, 'made-on-b');
    const dep = await createDeployment(a, project.id, 'dep-sse', { authEnabled: true });
    await b.gql(LinkApiKey, { input: { deploymentId: dep.id, apiKeyId: key.apiKey.id } });
    await a.gql(UpdateDeployment, { input: { id: dep.id, model: 'llama-3-70b' } });
    await until(() => overWs.events.length === 4 && overSse.events.length === 4, 5000, 'four events on both transports');

    expect(overSse.events.every((e) => e.event === 'next')).toBe(true);
    const viaSse = overSse.events.map((e) => e.data.data.projectEvents);
    expect(viaSse).toEqual(overWs.events);
    expect(viaSse.map((e) => e.type)).toEqual(['API_KEY_CREATED', 'DEPLOYMENT_CREATED', 'API_KEY_LINKED', 'DEPLOYMENT_UPDATED']);
    expect(viaSse[3]).toMatchObject({ deployment: { name: 'dep-sse', model: 'llama-3-70b', apiKeys: [{ name: 'made-on-b' }] } });

    // Resume over SSE from the first revision: the replay equals what was seen live, plus the earlier key.
    const resumed = await sse(b.url, FULL, { p: project.id, after: before.propagation.revision - 1 });
    await until(() => resumed.events.length === 5, 5000, 'the replay over SSE');
    expect(resumed.events.slice(1).map((e) => e.data.data.projectEvents.revision)).toEqual(viaSse.map((e) => e.revision));

    overSse.abort();
    resumed.abort();
    overWs.dispose();
    await until(() => a.stats().subscribers === 0 && b.stats().subscribers === 0, 5000, 'the streams to end');
  });

  it('answers errors as graphql-ws does: bad token 401, another project NOT_FOUND, afterRevision above the head', async () => {
    const mine = await createProject(a);
    const other = await createProject(a);
    const token = (await a.gql(CreateAccessToken, { input: { name: uniqueName('sse'), projectId: mine.id } })).data!.createAccessToken.token;

    await expect(sse(a.url, EVENTS, { p: mine.id }, 'kgat_not_a_real_token')).rejects.toThrow(/401/);

    const foreign = await sse(a.url, EVENTS, { p: other.id }, token);
    await foreign.ended;
    expect(foreign.events[0]?.data.errors[0].extensions.code).toBe('NOT_FOUND');

    const above = await sse(a.url, EVENTS, { p: mine.id, after: 10_000_000 });
    await above.ended;
    expect(above.events[0]?.data.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'afterRevision' });
    expect(a.stats().subscribers).toBe(0);
  });
});

describe('graphql-ws close codes (docs/api.md)', () => {
  it('4403 for a missing, malformed or unknown token', async () => {
    for (const payload of [undefined, {}, { authorization: 'Bearer kgat_not_a_real_token' }, { authorization: 'Basic abc' }]) {
      const s = await rawSocket(a.url);
      s.send({ type: 'connection_init', ...(payload ? { payload } : {}) });
      expect((await s.closed).code).toBe(4403);
    }
  });

  it('4408 when connection_init does not come in time (here 300 ms)', async () => {
    // From before the connection: the server's wait starts when it accepts it, which may be well
    // before this process gets round to the client's 'open' on a loaded machine.
    const opened = Date.now();
    const s = await rawSocket(a.url);
    const { code } = await s.closed;
    expect(code).toBe(4408);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(250);
    expect(Date.now() - opened).toBeLessThan(2000);
  });

  it('4429 for a second connection_init', async () => {
    const s = await rawSocket(a.url);
    s.send(init());
    await until(() => s.messages.some((m) => m.type === 'connection_ack'));
    s.send(init());
    expect((await s.closed).code).toBe(4429);
  });

  it('4400 for a malformed message', async () => {
    for (const bad of ['{not json', JSON.stringify({ type: 'no_such_type' }), JSON.stringify({ type: 'subscribe', id: 1, payload: {} })]) {
      const s = await rawSocket(a.url);
      s.send(init());
      await until(() => s.messages.some((m) => m.type === 'connection_ack'));
      s.send(bad);
      expect((await s.closed).code).toBe(4400);
    }
  });

  it('4401 for subscribe before the connection is acknowledged', async () => {
    const s = await rawSocket(a.url);
    s.send({ type: 'subscribe', id: '1', payload: { query: EVENTS, variables: { p: 'x' } } });
    expect((await s.closed).code).toBe(4401);
  });

  it('a malformed or invalid subscription is an error message, and the connection stays open', async () => {
    const project = await createProject(a);
    const s = await rawSocket(a.url);
    s.send(init());
    await until(() => s.messages.some((m) => m.type === 'connection_ack'));
    s.send({ type: 'subscribe', id: 'syntax', payload: { query: 'subscription { projectEvents(' } });
    s.send({ type: 'subscribe', id: 'unknown-field', payload: { query: 'subscription($p: ID!) { projectEvents(projectId: $p) { nope } }', variables: { p: project.id } } });
    s.send({ type: 'subscribe', id: 'bad-id', payload: { query: EVENTS, variables: { p: 'not-a-global-id' } } });
    await until(() => s.messages.filter((m) => m.type === 'error' || m.type === 'next').length === 3);
    const byId = Object.fromEntries(s.messages.filter((m) => m.type !== 'complete').map((m) => [m.id, m]));
    expect(JSON.stringify(byId.syntax)).toMatch(/Syntax Error/);
    expect(JSON.stringify(byId['unknown-field'])).toContain('GRAPHQL_VALIDATION_FAILED');
    expect(JSON.stringify(byId['bad-id'])).toContain('BAD_USER_INPUT');
    expect(s.ws.readyState).toBe(s.ws.OPEN);
    s.ws.close();
  });
});

describe('keep-alive', () => {
  it('pings every interval and terminates a socket that stops answering; a live client stays', async () => {
    const live = await rawSocket(a.url);
    let pings = 0;
    live.ws.on('ping', () => pings++);
    live.send(init());
    const dead = await rawSocket(a.url, { autoPong: false });
    dead.send(init());
    await until(() => dead.messages.some((m) => m.type === 'connection_ack') && live.messages.some((m) => m.type === 'connection_ack'));
    const { code } = await dead.closed; // terminated: no close frame
    expect(code).toBe(1006);
    // Three more intervals for the live one (counted, not slept: timers run late on a loaded machine).
    const after = pings;
    await until(() => pings >= after + 3, 10_000, 'three more pings');
    expect(live.ws.readyState).toBe(live.ws.OPEN);
    live.ws.close();
  });
});
