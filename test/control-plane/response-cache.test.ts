// A repeated read is answered from the answer kept at the same head revision
// (src/graphql-server/response-cache.ts): nothing but the head is read, the answer is the same,
// any change shows at once, and one token's answer never reaches another.
import { describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { useKeygate } from '../helpers/keygate.ts';
import { CreateAccessToken, LinkApiKey, ProjectKeys } from '../helpers/operations.ts';

const t = useKeygate();

/** What a request sent, token checks and background polls left out. */
const ownStatements = (queries: string[]) => queries.filter((q) => !/^(BEGIN|COMMIT)/i.test(q) && !/access_tokens|expiry_announced|expiring_announced/.test(q));

async function statementsOf<T>(run: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  t.kg.queries.length = 0;
  const result = await run();
  return { result, statements: ownStatements(t.kg.queries) };
}

describe('the response cache', () => {
  it('answers a repeated list from the kept answer until a change, then reads it again', async () => {
    const project = await createProject(t.kg);
    const one = await createKey(t.kg, project.id, 'key-one');
    await createKey(t.kg, project.id, 'key-two');
    const deployment = await createDeployment(t.kg, project.id, 'dep-a', { apiKeyIds: [one.apiKey.id] });

    const first = await statementsOf(() => t.kg.gql(ProjectKeys, { slug: project.slug, first: 10 }));
    const again = await statementsOf(() => t.kg.gql(ProjectKeys, { slug: project.slug, first: 10 }));
    expect(again.result).toEqual(first.result);
    expect(first.statements.length).toBeGreaterThan(1);
    // Only the head (the control plane's own head poll may land in between: the same statement).
    expect(again.statements.length).toBeGreaterThan(0);
    expect(again.statements.filter((q) => !/FROM feed_state/.test(q))).toEqual([]);
    const metrics = await (await fetch(t.kg.url.replace(/\/graphql$/, '/metrics'))).text();
    expect(Number(/keygate_response_cache_total\{outcome="hit"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/keygate_response_cache_total\{outcome="miss"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);

    const two = first.result.data!.project!.apiKeys.edges[1]!.node;
    expect(two.deployments).toEqual([]);
    await t.kg.gql(LinkApiKey, { input: { deploymentId: deployment.id, apiKeyId: two.id } });
    const after = await statementsOf(() => t.kg.gql(ProjectKeys, { slug: project.slug, first: 10 }));
    expect(after.statements.length).toBeGreaterThan(1);
    expect(after.result.data!.project!.apiKeys.edges[1]!.node.deployments.map((d) => d.name)).toEqual(['dep-a']);
  });

  it('keeps answers per token: another project\'s token gets its own answer, not the kept one', async () => {
    const project = await createProject(t.kg);
    const other = await createProject(t.kg);
    await createKey(t.kg, project.id, 'mine-one');
    const mine = (await t.kg.gql(CreateAccessToken, { input: { name: `mine-${project.slug}`, projectId: project.id } })).data!.createAccessToken.token;
    const theirs = (await t.kg.gql(CreateAccessToken, { input: { name: `theirs-${other.slug}`, projectId: other.id } })).data!.createAccessToken.token;

    for (let i = 0; i < 2; i++) {
      expect((await t.kg.gql(ProjectKeys, { slug: project.slug, first: 10 })).data!.project!.apiKeys.totalCount).toBe(1);
      const own = await statementsOf(() => t.kg.gql(ProjectKeys, { slug: project.slug, first: 10 }, mine));
      expect(own.result.data!.project!.apiKeys.totalCount).toBe(1);
      // The second time from its own kept answer (only the head read): answers are kept, per token.
      if (i === 1) expect(own.statements.filter((q) => !/FROM feed_state/.test(q))).toEqual([]);
      const foreign = await t.kg.gql(ProjectKeys, { slug: project.slug, first: 10 }, theirs);
      expect(foreign.data).toEqual({ project: null });
    }
  });

  it('never keeps an answer that depends on what changes without a revision (lastUsedAt, its order), nor a missing project', async () => {
    const project = await createProject(t.kg);
    await createKey(t.kg, project.id, 'used-key');
    const withLastUsed = `query($slug: String!) { project(slug: $slug) { apiKeys(first: 10) { edges { node { name lastUsedAt } } } } }`;
    await t.kg.gql(withLastUsed, { slug: project.slug });
    const again = await statementsOf(() => t.kg.gql(withLastUsed, { slug: project.slug }));
    expect(again.statements.some((q) => /api_keys/.test(q))).toBe(true);

    const byUse = `query($slug: String!) { project(slug: $slug) { apiKeys(first: 10, orderBy: LAST_USED_AT_DESC) { edges { node { name } } } } }`;
    await t.kg.gql(byUse, { slug: project.slug });
    const reordered = await statementsOf(() => t.kg.gql(byUse, { slug: project.slug }));
    expect(reordered.statements.some((q) => /api_keys/.test(q))).toBe(true);

    const slug = `later-${project.slug}`.slice(0, 40);
    expect((await t.kg.gql(ProjectKeys, { slug, first: 10 })).data).toEqual({ project: null });
    await createProject(t.kg, slug); // takes no revision
    expect((await t.kg.gql(ProjectKeys, { slug, first: 10 })).data!.project).not.toBeNull();
  });
});
