// Bad input at the GraphQL API: clear errors, never a crash or a 500.
import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/fixtures.ts';
import { errorCode, startTestKeygate, useKeygate } from '../helpers/keygate.ts';
import { CreateApiKey, CreateDeployment, CreateProject, Node } from '../helpers/operations.ts';

const t = useKeygate();

const NASTY = ['', ' ', '\u0000', 'é', '💥'.repeat(40), 'a'.repeat(100_000), '<script>', "'; DROP TABLE api_keys; --", '\uD800'];

describe('GraphQL abuse', () => {
  it('answers unicode, control characters and oversized strings in every input with BAD_USER_INPUT', async () => {
    const project = await createProject(t.kg);
    for (const s of NASTY) {
      const results = [
        await t.kg.gql(CreateProject, { slug: s }),
        await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name: s } }),
        await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name: 'fine-name', description: s.length > 300 ? s : 'x'.repeat(301) } }),
        await t.kg.gql(CreateDeployment, { input: { projectId: project.id, name: s, model: 'm', upstreamUrl: 'http://127.0.0.1:9' } }),
        await t.kg.gql(CreateDeployment, { input: { projectId: project.id, name: 'fine', model: 'm', upstreamUrl: s } }),
        await t.kg.gql(Node, { id: s }),
      ];
      // Every one of these values breaks the field's rule, so each call must be refused.
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(errorCode(r)).toBe('BAD_USER_INPUT');
      }
    }
    const logs = t.kg.logs.join('\n');
    expect(logs).not.toMatch(/"level":50/); // nothing unexpected was logged as an error
  });

  it('answers batched requests up to the limit, and refuses larger batches', async () => {
    const one = { query: '{ viewer { role } }' };
    const call = (body: unknown) =>
      fetch(t.kg.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer test-admin-token-0123456789' }, body: JSON.stringify(body) });
    const ok = await call(Array.from({ length: 10 }, () => one));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as unknown[]).length).toBe(10);
    const tooMany = await call(Array.from({ length: 11 }, () => one));
    expect(tooMany.status).toBeGreaterThanOrEqual(400);
    expect(tooMany.status).toBeLessThan(500);
  });

  it('turns introspection and GraphiQL off in production mode', async () => {
    const prod = await startTestKeygate({ env: { DATABASE_URL: t.db.url, NODE_ENV: 'production' }, mode: 'start' });
    try {
      const r = await prod.gql('{ __schema { types { name } } }');
      expect(errorCode(r)).toBe('GRAPHQL_VALIDATION_FAILED');
      const page = await fetch(prod.url, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toContain('GraphiQL');
      expect((await prod.gql('{ viewer { role } }')).data?.viewer).toEqual({ role: 'ADMIN' });
    } finally {
      await prod.stop();
    }
    const dev = await t.kg.gql('{ __schema { queryType { name } } }');
    expect(dev.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});
