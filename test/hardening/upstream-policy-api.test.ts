// Issue 15 through the GraphQL API and whole keygate processes: the upstream policy when a
// deployment is created or updated (finding 3, the addresses), loopback refused with
// NODE_ENV=production (a project token could read the control plane through the proxy), and the
// proxy's metrics on the status listener only, in `keygate start` and `keygate proxy` (finding 8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, startTestKeygate, type TestKeygate, useKeygate } from '../helpers/keygate.ts';
import { CreateDeployment, UpdateDeployment } from '../helpers/operations.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase, uniqueName } from '../helpers/services.ts';

const refusedInput = (r: { errors?: { extensions?: { code?: string; field?: string } }[] }) => [errorCode(r as never), errorField(r as never)];

describe('upstream policy at create and update time', () => {
  const t = useKeygate();

  it.each([
    'http://0.0.0.0:4000/graphql',
    'http://0:4000/',
    'http://[::]:4000/',
    'http://[::ffff:0.0.0.0]:4000/',
    'http://[::a9fe:a9fe]/latest/meta-data',
    'http://[64:ff9b::a9fe:a9fe]/latest/meta-data',
    'http://[::ffff:0:a9fe:a9fe]/latest/meta-data',
    'http://[2002:a9fe:a9fe::]/',
    'http://100.100.100.200/latest/meta-data',
    'http://2852039166/',
    'http://0251.0376.0251.0376/',
    'http://0xa9fea9fe/',
  ])('refuses %s', async (upstreamUrl) => {
    const project = await createProject(t.kg);
    const created = await t.kg.gql(CreateDeployment, { input: { projectId: project.id, name: 'meta', model: 'm', upstreamUrl } });
    expect(refusedInput(created)).toEqual(['BAD_USER_INPUT', 'upstreamUrl']);
    const d = await createDeployment(t.kg, project.id, 'ok-first');
    const updated = await t.kg.gql(UpdateDeployment, { input: { id: d.id, upstreamUrl } });
    expect(refusedInput(updated)).toEqual(['BAD_USER_INPUT', 'upstreamUrl']);
  });

  it('serves metrics on the status listener only, in keygate start', async () => {
    const { port, statusPort } = t.kg.running.proxy!;
    expect(statusPort).toBeGreaterThan(0);
    expect(statusPort).not.toBe(port);
    expect((await fetch(`http://127.0.0.1:${port}/-/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/-/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/-/readyz`)).status).toBe(200);
    const metrics = await fetch(`http://127.0.0.1:${statusPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('keygate_proxy_refusals_total{reason="not_linked"} 0');
  });
});

describe('with NODE_ENV=production', () => {
  let db: TestDatabase;
  let kg: TestKeygate;
  beforeAll(async () => {
    db = await createTestDatabase();
    kg = await startTestKeygate({ env: { DATABASE_URL: db.url, NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await kg?.stop();
    await db?.drop();
  });

  it("refuses loopback upstreams, so a project token cannot read the control plane's own port through the proxy", async () => {
    const project = await createProject(kg);
    const cp = kg.running.controlPlane!.port;
    for (const upstreamUrl of [`http://127.0.0.1:${cp}/graphql`, `http://localhost:${cp}/`, `http://[::1]:${cp}/`, `http://127.1:${cp}/`, `http://[::ffff:127.0.0.1]:${cp}/`]) {
      const created = await kg.gql(CreateDeployment, { input: { projectId: project.id, name: 'loop', model: 'm', upstreamUrl } });
      expect([upstreamUrl, ...refusedInput(created)]).toEqual([upstreamUrl, 'BAD_USER_INPUT', 'upstreamUrl']);
    }
    const d = await createDeployment(kg, project.id, 'remote', { upstreamUrl: 'http://192.0.2.10/v1' });
    const updated = await kg.gql(UpdateDeployment, { input: { id: d.id, upstreamUrl: `http://127.0.0.1:${cp}/graphql` } });
    expect(refusedInput(updated)).toEqual(['BAD_USER_INPUT', 'upstreamUrl']);
  });
});

describe('keygate proxy', () => {
  it('serves metrics on its status listener (ephemeral with proxy port 0), and 404 on the public /-/metrics', async () => {
    const db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgstatus')}:` };
    const kg = await startTestKeygate({ mode: 'proxy', env });
    try {
      const { port, statusPort } = kg.running.proxy!;
      expect((await fetch(`http://127.0.0.1:${port}/-/metrics`)).status).toBe(404);
      const text = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
      expect(text).toContain('keygate_proxy_ready 1');
      expect((await fetch(`http://127.0.0.1:${statusPort}/`)).status).toBe(404);
    } finally {
      await kg.stop();
      await db.drop();
    }
  });
});
