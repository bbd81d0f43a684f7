// Issue 15, finding 1: link lists were costed at 20 items while a project token can link every key
// to every deployment. Project "dos", 100 keys and 17 deployments, all linked: the query below was
// accepted (estimated cost ~143k), returned 2.89 M items (49.6 MB) in 18-22 s and stalled the
// process; a batch of two took 163 s. Now a request's link lists are counted as they resolve and
// the request is cut (RESULT_TOO_LARGE) before the items are built; a deadline cuts what runs
// longer than 2 s (OPERATION_TIMEOUT). DESIGN.md, "Limits against a hostile tenant".
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { MAX_LINKED_ITEMS } from '../../src/graphql/operation-limits.ts';
import { createProject } from '../helpers/fixtures.ts';
import { ADMIN_TOKEN, errorCode, startTestKeygate, useKeygate } from '../helpers/keygate.ts';
import { CreateAccessToken } from '../helpers/operations.ts';
import { seedAllLinked, WORST_QUERY } from './operation-limits-helpers.ts';

// The item limit as shipped; the deadline is the helper's (30 s), so that on a loaded machine the
// verdict is the item count's, not the clock's. The deadline has its own test below.
const t = useKeygate();

async function post(url: string, body: unknown, token: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as any, bytes: text.length };
}

async function dosToken(slug: string): Promise<string> {
  const project = await t.kg.gql(`query($s: String!) { project(slug: $s) { id } }`, { s: slug });
  const created = await t.kg.gql(CreateAccessToken, { input: { name: `attacker-${slug}`, projectId: project.data!.project.id } });
  return created.data!.createAccessToken.token;
}

describe('a request whose link lists explode', () => {
  it('is cut with RESULT_TOO_LARGE, alone and as a batch of two, instead of building 2.89 M items', async () => {
    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    try {
      await seedAllLinked(client, 'dos', 100, 17);
    } finally {
      await client.end();
    }
    const token = await dosToken('dos');

    const one = await post(t.kg.url, { query: WORST_QUERY }, token);
    expect(one.status).toBe(200);
    expect(one.body.data ?? null).toBeNull();
    expect(one.body.errors).toHaveLength(1);
    expect(one.body.errors[0].extensions).toMatchObject({ code: 'RESULT_TOO_LARGE', maxItems: MAX_LINKED_ITEMS });
    expect(one.bytes).toBeLessThan(2_000); // was 49.6 MB

    const batch = await post(t.kg.url, [{ query: WORST_QUERY }, { query: WORST_QUERY }], token);
    expect(batch.status).toBe(200);
    expect(batch.body.map((r: any) => r.errors?.[0]?.extensions?.code)).toEqual(['RESULT_TOO_LARGE', 'RESULT_TOO_LARGE']);
    expect(t.kg.logs.join('\n')).not.toMatch(/"level":50/); // a refusal, not a crash
  });

  it('still answers link lists that fit, whole', async () => {
    const project = await createProject(t.kg);
    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    try {
      await seedAllLinked(client, project.slug, 30, 10);
    } finally {
      await client.end();
    }
    // 10 deployments × 30 keys × 10 deployments = 3,000 linked items, plus the 300 above them.
    const r = await t.kg.gql(`{ project(slug: "${project.slug}") { deployments(first: 10) { edges { node { apiKeys { deployments { name } } } } } } }`);
    expect(r.errors).toBeUndefined();
    const edges = r.data!.project.deployments.edges;
    expect(edges).toHaveLength(10);
    for (const edge of edges) {
      expect(edge.node.apiKeys).toHaveLength(30);
      for (const key of edge.node.apiKeys) expect(key.deployments).toHaveLength(10);
    }
  });
});

describe('the request deadline', () => {
  it('cuts a request still running after the deadline with OPERATION_TIMEOUT, and nothing is logged as an error', async () => {
    // A deadline of 1 ms: any request that reaches a link list after it is cut there.
    const kg = await startTestKeygate({ env: { DATABASE_URL: t.db.url, KEYGATE_OPERATION_DEADLINE_MS: '1' } });
    try {
      const project = await createProject(kg);
      const r = await kg.gql(`query($s: String!) { project(slug: $s) { apiKeys(first: 5) { edges { node { deployments { id } } } } } }`, { s: project.slug });
      expect(r.status).toBe(200);
      expect(r.data ?? null).toBeNull();
      expect(r.errors).toHaveLength(1);
      expect(r.errors![0]!.extensions).toMatchObject({ code: 'OPERATION_TIMEOUT', deadlineMs: 1 });
      expect(kg.logs.join('\n')).not.toMatch(/"level":50/);
      // A request without link lists or database reads after its deadline is answered.
      expect((await kg.gql('{ viewer { role } }', {}, ADMIN_TOKEN)).data?.viewer).toEqual({ role: 'ADMIN' });
    } finally {
      await kg.stop();
    }
    expect(errorCode(await t.kg.gql('{ viewer { role } }'))).toBeUndefined();
  });
});
