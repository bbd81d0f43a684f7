import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createKey, createProject } from '../helpers/fixtures.ts';
import { ADMIN_TOKEN, startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { CreateAccessToken } from '../helpers/operations.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';

let db: TestDatabase;
let a: TestKeygate;
let b: TestKeygate;
const clients: Client[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgtest')}:` };
  a = await startTestKeygate({ env, mode: 'control-plane' });
  b = await startTestKeygate({ env, mode: 'control-plane' });
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await a?.stop();
  await b?.stop();
  await db?.drop();
});

const SUBSCRIPTION = `subscription($p: ID!, $after: Int) {
  projectEvents(projectId: $p, afterRevision: $after) { type revision actor projectId apiKeyId apiKey { name } }
}`;

interface Received {
  type: string;
  revision: number;
  actor: string | null;
  apiKey: { name: string } | null;
}

function connect(kg: TestKeygate, token: string | null = ADMIN_TOKEN, onClose?: (code: number) => void) {
  const client = createClient({
    url: kg.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    on: { closed: (e) => onClose?.((e as { code: number }).code) },
  });
  clients.push(client);
  return client;
}

/** Subscribes and collects events; resolves `ready` once the server has the subscription. */
function collect(client: Client, variables: Record<string, unknown>) {
  const events: Received[] = [];
  const errors: unknown[] = [];
  const dispose = client.subscribe<{ projectEvents: Received }>(
    { query: SUBSCRIPTION, variables },
    { next: (r) => (r.data ? events.push(r.data.projectEvents) : errors.push(r.errors)), error: (e) => errors.push(e), complete: () => {} },
  );
  return { events, errors, dispose };
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('projectEvents over graphql-ws', () => {
  it('delivers a mutation made on one control plane to subscribers on both, in revision order', async () => {
    const project = await createProject(a);
    const onA = collect(connect(a), { p: project.id });
    const onB = collect(connect(b), { p: project.id });
    // Live only (no afterRevision): the keys are created once both servers hold the subscription.
    await until(() => [a, b].every((kg) => kg.running.controlPlane!.stats().subscribers === 1));
    await createKey(a, project.id, 'first-key');
    await createKey(b, project.id, 'second-key');
    await until(() => onA.events.length === 2 && onB.events.length === 2);
    for (const s of [onA, onB]) {
      expect(s.events.map((e) => [e.type, e.apiKey?.name, e.actor])).toEqual([
        ['API_KEY_CREATED', 'first-key', 'admin'],
        ['API_KEY_CREATED', 'second-key', 'admin'],
      ]);
      expect(s.events[1]!.revision).toBeGreaterThan(s.events[0]!.revision);
    }
    onA.dispose();
    onB.dispose();
  });

  it('replays after afterRevision, then goes on live, with no duplicate', async () => {
    const project = await createProject(a);
    const k1 = await createKey(a, project.id, 'replayed-one');
    await createKey(a, project.id, 'replayed-two');
    const s = collect(connect(b), { p: project.id, after: k1.propagation.revision - 1 });
    await until(() => s.events.length === 2);
    await createKey(a, project.id, 'live-three');
    await until(() => s.events.length === 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.events.map((e) => e.apiKey?.name)).toEqual(['replayed-one', 'replayed-two', 'live-three']);
    s.dispose();
  });

  it('Project.revision is the head: reading it, then subscribing after it, misses no change made in between', async () => {
    const project = await createProject(a);
    const before = await createKey(a, project.id, 'before-the-read');
    const read = await b.gql<{ project: { revision: number } }>('query($s: String!) { project(slug: $s) { revision } }', { s: project.slug });
    expect(read.data!.project.revision).toBe(before.propagation.revision);
    const between = await createKey(a, project.id, 'between-read-and-subscribe');
    expect(between.propagation.revision).toBeGreaterThan(read.data!.project.revision);
    const s = collect(connect(b), { p: project.id, after: read.data!.project.revision });
    await createKey(a, project.id, 'after-subscribe');
    await until(() => s.events.length === 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.events.map((e) => e.apiKey?.name)).toEqual(['between-read-and-subscribe', 'after-subscribe']);
    s.dispose();
  });

  it('closes with 4403 for a bad token', async () => {
    let code = 0;
    const client = connect(a, 'kgat_not_a_real_token_at_all_000000', (c) => (code = c));
    collect(client, { p: 'x' });
    await until(() => code !== 0);
    expect(code).toBe(4403);
  });

  it("answers an error for another project's stream and for afterRevision above the head", async () => {
    const mine = await createProject(a);
    const other = await createProject(a);
    const tok = await a.gql(CreateAccessToken, { input: { name: uniqueName('sub'), projectId: mine.id } });
    const s = collect(connect(a, tok.data!.createAccessToken.token), { p: other.id });
    await until(() => s.errors.length > 0);
    expect(JSON.stringify(s.errors)).toContain('NOT_FOUND');
    const above = collect(connect(a), { p: mine.id, after: 10_000_000 });
    await until(() => above.errors.length > 0);
    expect(JSON.stringify(above.errors)).toContain('BAD_USER_INPUT');
  });
});
