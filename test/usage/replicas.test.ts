// Usage from real proxy processes on Redis: two proxies sharing one key's traffic add up exactly;
// a proxy stopped with SIGTERM mid-traffic loses nothing; one killed with SIGKILL loses at most its
// last 5 s, and the test says how much. The control plane hears every flush over Redis
// (usageUpdates).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate, waitForSubscribers } from '../helpers/keygate.ts';
import { startProxyProcess, type ProxyProcess } from '../helpers/proxy-process.ts';
import { createTestDatabase, REDIS_URL, uniqueName, type TestDatabase } from '../helpers/services.ts';
import { clientPool, sleep } from '../subscriptions/helpers.ts';
import { startUsageUpstream, type UsageUpstream } from './helpers.ts';

let upstream: UsageUpstream;
let db: TestDatabase;
let cp: TestKeygate;
const children: ProxyProcess[] = [];
const clients = clientPool();

beforeAll(async () => {
  upstream = await startUsageUpstream();
  db = await createTestDatabase();
});
afterAll(async () => {
  await clients.disposeAll();
  await Promise.all(children.map((c) => c.stop()));
  await cp?.stop();
  await upstream?.stop();
  await db?.drop();
});


it('two proxies add up exactly; SIGTERM loses nothing; SIGKILL loses at most its last 5 s', async () => {
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgusage')}:` };
  // The proxies confirm over Redis from processes of their own: more than the helper's default second
  // on a loaded machine, and the traffic starts right after the key is linked.
  cp = await startTestKeygate({ env: { ...env, LOG_LEVEL: 'warn', KEYGATE_PROPAGATION_TIMEOUT_MS: '10000' }, mode: 'control-plane' });
  const [a, b] = await Promise.all([startProxyProcess(env), startProxyProcess(env)]);
  children.push(a, b);
  const project = await createProject(cp);
  const key = await createKey(cp, project.id, 'shared-key');
  await createDeployment(cp, project.id, 'chat', { upstreamUrl: upstream.url, authEnabled: true, apiKeyIds: [key.apiKey.id] });

  // usageUpdates on the control plane: every proxy's flushes arrive over Redis.
  const updates: { requests: number; promptTokens: number }[] = [];
  clients.open(cp).client.subscribe<{ usageUpdates: { requests: number; promptTokens: number } }>(
    { query: `subscription($p: ID!) { usageUpdates(projectId: $p) { requests promptTokens } }`, variables: { p: project.id } },
    { next: (r) => r.data && updates.push(r.data.usageUpdates), error: () => {}, complete: () => {} },
  );
  await waitForSubscribers(cp, 1);

  const call = async (port: number) => {
    const res = await fetch(`http://127.0.0.1:${port}/${project.slug}/chat/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key.secret },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'tokens 2 3' }] }),
    }).catch(() => null);
    if (!res) return 0;
    await res.arrayBuffer().catch(() => null);
    return res.status;
  };
  const counted = async () => {
    const r = await cp.gql(`query($id: ID!, $from: DateTime!) { node(id: $id) { ... on ApiKey { usage(from: $from, granularity: DAY) { total { requests promptTokens completionTokens } } } } }`, {
      id: key.apiKey.id,
      from: new Date(Date.now() - 86_400_000).toISOString(),
    });
    return (r.data?.node as { usage: { total: { requests: number; promptTokens: number; completionTokens: number } } }).usage.total;
  };
  /** The key's total once it reached `expected` (or 12 s passed); with `linger`, one more flush
   *  interval later, so a late or repeated write would show. */
  const settle = async (expected: number, linger = false) => {
    const end = Date.now() + 12_000;
    let total = await counted();
    while (Date.now() < end && total.requests < expected) {
      await sleep(250);
      total = await counted();
    }
    if (!linger) return total;
    await sleep(5_500);
    return counted();
  };

  // 1. Shared traffic: the exact sum, no double count.
  let ok = 0;
  for (let i = 0; i < 60; i++) if ((await call(i % 2 ? a.port : b.port)) === 200) ok++;
  expect(ok).toBe(60);
  expect(await settle(60, true)).toEqual({ requests: 60, promptTokens: 120, completionTokens: 180 });
  expect(updates.reduce((n, u) => n + u.requests, 0)).toBe(60);
  expect(updates.reduce((n, u) => n + u.promptTokens, 0)).toBe(120);

  // 2. SIGTERM mid-traffic: every request a client got a 200 for is counted.
  let running = true;
  const loop = async (port: number) => {
    let n = 0;
    while (running) if ((await call(port)) === 200) n++;
    return n;
  };
  const termLoops = [loop(a.port), loop(a.port), loop(b.port)];
  await sleep(1_500);
  a.child.kill('SIGTERM');
  await a.exited;
  running = false;
  const termOk = (await Promise.all(termLoops)).reduce((x, y) => x + y, 0);
  expect(await settle(60 + termOk)).toMatchObject({ requests: 60 + termOk });

  // 3. SIGKILL: what was answered in the last flush interval may be lost, nothing more.
  running = true;
  const stamps: number[] = [];
  const killLoop = async () => {
    while (running) if ((await call(b.port)) === 200) stamps.push(Date.now());
  };
  const killLoops = [killLoop(), killLoop()];
  await sleep(6_000);
  const killedAt = Date.now();
  b.child.kill('SIGKILL');
  await b.exited;
  running = false;
  await Promise.all(killLoops);
  const before = 60 + termOk;
  const total = (await settle(before + stamps.length, true)).requests;
  const lost = before + stamps.length - total;
  const lastFiveSeconds = stamps.filter((t) => t > killedAt - 5_000).length;
  console.info(`SIGKILL: ${stamps.length} requests answered by the killed proxy, ${lost} not counted (${lastFiveSeconds} were answered in its last 5 s)`);
  expect(lost).toBeGreaterThanOrEqual(0);
  expect(lost).toBeLessThanOrEqual(lastFiveSeconds);
}, 120_000);
