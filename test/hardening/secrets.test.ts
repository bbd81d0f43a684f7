// One whole flow at LOG_LEVEL=debug with the access log on: no issued secret (nor its hash) shows up in any log line,
// metric, error or subscription event; the database holds only hashes; upstreams never see a
// keygate key.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hashSecret } from '../../src/domain/secrets.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { ADMIN_TOKEN, startTestKeygate, type TestKeygate, waitForSubscribers } from '../helpers/keygate.ts';
import { CreateAccessToken, DeleteApiKey, UnlinkApiKey } from '../helpers/operations.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';

let db: TestDatabase;
let kg: TestKeygate;
let upstream: Server;
const received: IncomingHttpHeaders[] = [];

afterAll(async () => {
  await kg?.stop();
  await new Promise((r) => upstream?.close(r));
  await db?.drop();
});

it('never lets a secret or its hash out', async () => {
  upstream = createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamPort = (upstream.address() as import('node:net').AddressInfo).port;
  db = await createTestDatabase();
  // The proxy acks over Redis (more than the helper's default second on a loaded machine): the calls
  // below come right after the deployments are made.
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgsecret')}:`, KEYGATE_PROPAGATION_TIMEOUT_MS: '10000' };
  kg = await startTestKeygate({ env: { ...env, LOG_LEVEL: 'debug', KEYGATE_ACCESS_LOG: 'true' } });
  const proxyPort = kg.running.proxy!.port;
  const statusPort = kg.running.proxy!.statusPort;

  const project = await createProject(kg);
  const events: unknown[] = [];
  const ws = createClient({ url: kg.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  ws.subscribe(
    { query: `subscription($p: ID!) { projectEvents(projectId: $p) { type revision actor apiKey { id name prefix description } deployment { id apiKeys { id prefix } } } }`, variables: { p: project.id } },
    { next: (e) => events.push(e), error: (e) => events.push(e), complete: () => {} },
  );
  // Live only: the changes come once the server holds the subscription.
  await waitForSubscribers(kg, 1);

  const a = await createKey(kg, project.id, 'secret-a', { description: 'the first' });
  const b = await createKey(kg, project.id, 'secret-b');
  const token = (await kg.gql(CreateAccessToken, { input: { name: uniqueName('tok'), projectId: project.id } })).data!.createAccessToken.token;
  const d = await createDeployment(kg, project.id, 'guarded', { upstreamUrl: `http://127.0.0.1:${upstreamPort}`, authEnabled: true, apiKeyIds: [a.apiKey.id] });
  await createDeployment(kg, project.id, 'open', { upstreamUrl: `http://127.0.0.1:${upstreamPort}` });
  const call = (dep: string, headers: Record<string, string>) =>
    fetch(`http://127.0.0.1:${proxyPort}/${project.slug}/${dep}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' }).then((r) => r.text());

  const answers = [
    await call('guarded', { 'x-api-key': a.secret }),
    await call('guarded', { authorization: `Bearer ${a.secret}` }),
    await call('guarded', { 'x-api-key': b.secret }),
    await call('guarded', { 'x-api-key': `${a.secret.slice(0, -1)}x` }),
    await call('open', { 'x-api-key': a.secret, authorization: `Bearer ${b.secret}` }),
    await call('nope', { 'x-api-key': a.secret }),
  ];
  const errors = [
    await kg.gql(UnlinkApiKey, { input: { deploymentId: d.id, apiKeyId: a.secret } }),
    await kg.gql(`{ node(id: "${a.secret}") { id } }`),
    await kg.gql('{ viewer { role } }', {}, a.secret),
    await kg.gql('{ viewer { role } }', {}, token.slice(0, -2)),
  ];
  await kg.gql(DeleteApiKey, { input: { id: a.apiKey.id, force: true } });
  await new Promise((r) => setTimeout(r, 6000)); // past a lastUsedAt flush and event fan-out
  const metrics =
    (await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text()) +
    (await (await fetch(kg.url.replace(/\/graphql$/, '/metrics'))).text());
  await ws.dispose();

  expect(received.length).toBe(3); // two guarded calls with key a, one open call
  for (const h of received) {
    expect(h['x-api-key']).toBeUndefined();
    expect(h.authorization ?? '').not.toMatch(/kg_/);
  }
  expect(events.length).toBeGreaterThanOrEqual(5);

  const everything = JSON.stringify({ logs: kg.logs, metrics, errors, events, answers });
  for (const s of [a.secret, b.secret, token]) {
    expect(everything).not.toContain(s);
    expect(everything).not.toContain(hashSecret(s));
  }
  expect(kg.logs.filter((l) => l.includes('"level":20')).length).toBeGreaterThan(5); // debug logging really was on
  expect(kg.logs.filter((l) => l.includes('"component":"access"')).length).toBeGreaterThanOrEqual(4); // and the access log
  expect(metrics).toContain('keygate_proxy_refusals_total'); // and the status listener's metrics

  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const dump = JSON.stringify([
      ...(await c.query('SELECT * FROM api_keys')).rows,
      ...(await c.query('SELECT * FROM access_tokens')).rows,
      ...(await c.query('SELECT * FROM change_events')).rows,
    ]);
    for (const s of [a.secret, b.secret, token]) expect(dump).not.toContain(s);
    expect(dump).toContain(hashSecret(b.secret));
  } finally {
    await c.end();
  }
}, 60_000);
