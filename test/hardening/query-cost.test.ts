// Query cost (src/graphql/complexity.ts): counted from the values an operation actually runs with,
// so a page size written as a literal and as a variable get the same verdict; the API's largest
// legitimate pages pass, and link lists nested under a full page are refused before any resolver
// reads the database.
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { KeyPageQuery as DashboardKeyPage, ProjectQuery as DashboardProject } from '../../src/dashboard/lib/operations.ts';
import { QUERY_COST_BUDGET } from '../../src/graphql/complexity.ts';
import { createProject } from '../helpers/fixtures.ts';
import { ADMIN_TOKEN, errorCode, errorField, type GraphQLResponse, useKeygate } from '../helpers/keygate.ts';
import { ProjectKeys } from '../helpers/operations.ts';

const t = useKeygate();

/** A project of 1,000 keys and 1,000 deployments, each key linked to two deployments, written with SQL. */
async function seedLargeProject(): Promise<string> {
  const project = await createProject(t.kg);
  const client = new pg.Client({ connectionString: t.db.url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO api_keys (id, project_id, name, prefix, hash, created_at)
       SELECT gen_random_uuid(), p.id, 'key-' || lpad(i::text, 4, '0'), 'kg_seed', 'seed-' || p.id || '-' || i, now() + i * interval '1 ms'
       FROM projects p, generate_series(1, 1000) i WHERE p.slug = $1`,
      [project.slug],
    );
    await client.query(
      `INSERT INTO deployments (id, project_id, name, model, upstream_url, created_at, updated_at)
       SELECT gen_random_uuid(), p.id, 'dep-' || lpad(i::text, 4, '0'), 'm', 'http://127.0.0.1:9', now() + i * interval '1 ms', now()
       FROM projects p, generate_series(1, 1000) i WHERE p.slug = $1`,
      [project.slug],
    );
    await client.query(
      `INSERT INTO api_key_links (api_key_id, deployment_id)
       SELECT k.id, d.id FROM api_keys k JOIN deployments d ON d.project_id = k.project_id
        AND substr(d.name, 5)::int IN (substr(k.name, 5)::int, substr(k.name, 5)::int % 1000 + 1)
       JOIN projects p ON p.id = k.project_id WHERE p.slug = $1`,
      [project.slug],
    );
  } finally {
    await client.end();
  }
  return project.slug;
}

/** The same selection under `project`, with the page size as a literal and as a variable. */
function bothForms(selection: (first: string) => string, first: number) {
  return {
    literal: `query($slug: String!) { project(slug: $slug) { ${selection(String(first))} } }`,
    variable: [`query($slug: String!, $first: Int) { project(slug: $slug) { ${selection('$first')} } }`, { first }] as const,
  };
}

async function verdicts(slug: string, selection: (first: string) => string, first: number): Promise<[GraphQLResponse, GraphQLResponse]> {
  const { literal, variable } = bothForms(selection, first);
  return [await t.kg.gql(literal, { slug }), await t.kg.gql(variable[0], { slug, ...variable[1] })];
}

const keysWithDeployments = (first: string) => `apiKeys(first: ${first}) { edges { node { id name deployments { id name } } } }`;
const explosion = (first: string) => `apiKeys(first: ${first}) { edges { node { deployments { apiKeys { deployments { apiKeys { id } } } } } } }`;

describe('query cost', () => {
  it('gives a page size the same verdict as a literal and as a variable', async () => {
    const slug = await seedLargeProject();
    const accepted = await verdicts(slug, keysWithDeployments, 1000);
    for (const r of accepted) {
      expect(r.errors).toBeUndefined();
      expect(r.data!.project.apiKeys.edges).toHaveLength(1000);
      expect(r.data!.project.apiKeys.edges[0].node.deployments).toHaveLength(2);
    }
    expect(accepted[0].data).toEqual(accepted[1].data);

    for (const r of await verdicts(slug, explosion, 1000)) {
      expect(r.status).toBe(200);
      expect(errorCode(r)).toBe('QUERY_TOO_COSTLY');
      expect(r.errors![0]!.extensions!.maxCost).toBe(QUERY_COST_BUDGET);
      expect(r.data?.project ?? null).toBeNull();
    }
  });

  it('accepts the 1,000-key list and the dashboard\'s project and key-page queries with pages of 1,000', async () => {
    const slug = await seedLargeProject();
    const keys = await t.kg.gql(ProjectKeys, { slug, first: 1000 });
    expect(keys.errors).toBeUndefined();
    expect(keys.data!.project!.apiKeys.edges).toHaveLength(1000);

    const dashboard = await t.kg.gql(String(DashboardProject), { slug });
    expect(dashboard.errors).toBeUndefined();
    expect(dashboard.data!.project.deployments.edges).toHaveLength(1000);
    const keyPage = await t.kg.gql(String(DashboardKeyPage), { slug, first: 1000, orderBy: 'LAST_USED_AT_DESC', search: 'key' });
    expect(keyPage.errors).toBeUndefined();
    expect(keyPage.data!.project.apiKeys.edges).toHaveLength(1000);
    expect(dashboard.data!.project.deployments.edges[0].node.apiKeys).toHaveLength(2);
  });

  it('refuses link lists nested under a page before reading anything, under the default page size too', async () => {
    const project = await createProject(t.kg);
    const nested = [
      `{ project(slug: "${project.slug}") { ${explosion('1000')} } }`,
      `{ project(slug: "${project.slug}") { apiKeys { edges { node { deployments { apiKeys { deployments { apiKeys { id } } } } } } } } }`,
      `{ project(slug: "${project.slug}") { deployments(first: 1000) { edges { node { apiKeys { deployments { id } } } } } } }`,
      `{ projects(first: 1000) { edges { node { apiKeys(first: 1000) { edges { node { id } } } } } } }`,
    ];
    for (const query of nested) {
      t.kg.queries.length = 0;
      const r = await t.kg.gql(query);
      expect(r.status).toBe(200);
      expect(errorCode(r)).toBe('QUERY_TOO_COSTLY');
      expect(r.errors![0]!.message).toMatch(/cost limit/i);
      const reads = t.kg.queries.filter((q) => !/access_tokens|feed_state|expiry_announced|expiring_announced/.test(q)); // background polls
      expect(reads.filter((q) => /api_keys|deployments|"projects"/.test(q))).toEqual([]);
    }
    expect(t.kg.logs.join('\n')).not.toMatch(/"level":50/); // refused, not crashed
  });

  it('still answers first above 1000 with BAD_USER_INPUT, as a literal and as a variable', async () => {
    const project = await createProject(t.kg);
    for (const r of await verdicts(project.slug, keysWithDeployments, 1001)) {
      expect([errorCode(r), errorField(r)]).toEqual(['BAD_USER_INPUT', 'first']);
    }
    const huge = await t.kg.gql(ProjectKeys, { slug: project.slug, first: 1_000_000 });
    expect([errorCode(huge), errorField(huge)]).toEqual(['BAD_USER_INPUT', 'first']);
  });
});

describe('a subscription', () => {
  const costly = `subscription($p: ID!) { projectEvents(projectId: $p) {
    apiKey { deployments { apiKeys { deployments { apiKeys { deployments { id } } } } } } } }`;

  it('is refused when it subscribes, not event by event, over graphql-ws and SSE', async () => {
    const project = await createProject(t.kg);
    const client = createClient({
      url: t.kg.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
      retryAttempts: 0,
    });
    try {
      const refusal = await new Promise<unknown>((resolve) => {
        client.subscribe({ query: costly, variables: { p: project.id } }, { next: (r) => resolve(r.errors), error: resolve, complete: () => resolve('completed') });
      });
      expect(refusal).toMatchObject([{ extensions: { code: 'QUERY_TOO_COSTLY' } }]);
    } finally {
      await client.dispose();
    }

    const sse = await fetch(t.kg.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: costly, variables: { p: project.id } }),
      signal: AbortSignal.timeout(5000),
    });
    expect(await sse.text()).toContain('QUERY_TOO_COSTLY');
  });
});
