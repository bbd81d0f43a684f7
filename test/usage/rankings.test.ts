// Project.usageByKey and Project.usageByDeployment (docs/api.md, "Usage"): totals per key and per
// deployment from one GROUP BY, ranked by requests then tokens; apiKeyIds narrowing; deleted keys
// keep their totals with apiKey null; the owners read in one query; a project token sees only its
// project; bad first, apiKeyIds and ranges are BAD_USER_INPUT with their field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Database } from '../../src/db/database.ts';
import { sqlOfPrisma } from '../../src/db/sql.ts';
import { addUsage } from '../../src/db/statements/usage.ts';
import { idOf } from '../../src/graphql/ids.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, useKeygate } from '../helpers/keygate.ts';
import { CreateAccessToken, DeleteApiKey } from '../helpers/operations.ts';

const h = useKeygate();
let db: Database;
beforeAll(async () => {
  db = await openPostgres(h.db.url, { poolSize: 2 });
});
afterAll(async () => {
  await db?.close();
});

const BY_KEY = `query($slug: String!, $from: DateTime!, $to: DateTime, $first: Int, $ids: [ID!], $g: UsageGranularity) {
  project(slug: $slug) { usageByKey(from: $from, to: $to, first: $first, apiKeyIds: $ids, granularity: $g) {
    apiKeyId apiKey { id name deployments { name } } total { start requests rejected promptTokens completionTokens } } } }`;
const BY_DEPLOYMENT = `query($slug: String!, $from: DateTime!, $first: Int) {
  project(slug: $slug) { usageByDeployment(from: $from, first: $first) { deploymentId deployment { name } total { requests rejected } } } }`;

const NOW = Date.now();
const MINUTE = Math.floor((NOW - 2 * 3_600_000) / 60_000) * 60_000; // two hours ago
const from = new Date(NOW - 24 * 3_600_000).toISOString();

interface Seed {
  deploymentId: string;
  apiKeyId: string | null;
  requests: number;
  rejected?: number;
  tokens?: number;
}

/** Usage rows written as the proxies write them. */
async function seed(projectId: string, seeds: Seed[]) {
  await addUsage(
    sqlOfPrisma(db.prisma),
    seeds.map((s) => ({
      minute: MINUTE,
      projectId: idOf('Project', projectId, 'p'),
      deploymentId: idOf('Deployment', s.deploymentId, 'd'),
      apiKeyId: s.apiKeyId === null ? null : idOf('ApiKey', s.apiKeyId, 'k'),
      requests: s.requests,
      errors: 0,
      rejected: s.rejected ?? 0,
      rateLimited: 0,
      promptTokens: s.tokens ?? 0,
      completionTokens: 0,
      lastUsedAt: 0,
    })),
  );
}

/** A project with four keys (a tie on requests broken by tokens) over two deployments. */
async function world() {
  const { kg } = h;
  const project = await createProject(kg);
  const keys = await Promise.all(['k-low', 'k-top', 'k-tie-more-tokens', 'k-tie-fewer-tokens', 'k-idle'].map((n) => createKey(kg, project.id, n)));
  const [low, top, tieMore, tieFewer] = keys.map((k) => k.apiKey.id);
  const chat = await createDeployment(kg, project.id, 'chat', { apiKeyIds: [top!] });
  const embed = await createDeployment(kg, project.id, 'embed');
  await seed(project.id, [
    { deploymentId: chat.id, apiKeyId: top!, requests: 50, tokens: 1 },
    { deploymentId: embed.id, apiKeyId: top!, requests: 10 },
    { deploymentId: chat.id, apiKeyId: tieFewer!, requests: 20, tokens: 5 },
    { deploymentId: embed.id, apiKeyId: tieMore!, requests: 20, tokens: 9 },
    { deploymentId: chat.id, apiKeyId: low!, requests: 1 },
    { deploymentId: embed.id, apiKeyId: null, requests: 0, rejected: 100 }, // named no known key
  ]);
  return { project, ids: { low: low!, top: top!, tieMore: tieMore!, tieFewer: tieFewer!, idle: keys[4]!.apiKey.id }, chat, embed };
}

describe('usage rankings', () => {
  it('ranks keys by requests, then tokens, leaving out refusals that named no key, with the keys read in one query', async () => {
    const { kg } = h;
    const w = await world();
    kg.queries.length = 0;
    const r = await kg.gql(BY_KEY, { slug: w.project.slug, from });
    expect(r.errors).toBeUndefined();
    const rows = r.data!.project.usageByKey;
    expect(rows.map((x: any) => x.apiKey.name)).toEqual(['k-top', 'k-tie-more-tokens', 'k-tie-fewer-tokens', 'k-low']);
    expect(rows[0]).toMatchObject({ apiKeyId: w.ids.top, apiKey: { id: w.ids.top, deployments: [{ name: 'chat' }] }, total: { requests: 60, rejected: 0, promptTokens: 1 } });
    expect(new Date(rows[0].total.start).getTime()).toBe(Date.parse(from) - (Date.parse(from) % 3_600_000));
    // One statement for the ranking and one for the keys (with their deployments), whatever the row count.
    expect(kg.queries.filter((q) => /FROM "public"\."api_keys"/.test(q)).length).toBe(1);

    const two = await kg.gql(BY_KEY, { slug: w.project.slug, from, first: 2, g: 'MINUTE' });
    expect(two.data!.project.usageByKey.map((x: any) => x.apiKeyId)).toEqual([w.ids.top, w.ids.tieMore]);
  });

  it('ranks deployments, counting refusals that named no key', async () => {
    const { kg } = h;
    const w = await world();
    const r = await kg.gql(BY_DEPLOYMENT, { slug: w.project.slug, from });
    expect(r.errors).toBeUndefined();
    expect(r.data!.project.usageByDeployment).toEqual([
      { deploymentId: w.chat.id, deployment: { name: 'chat' }, total: { requests: 71, rejected: 0 } },
      { deploymentId: w.embed.id, deployment: { name: 'embed' }, total: { requests: 30, rejected: 100 } },
    ]);
    const one = await kg.gql(BY_DEPLOYMENT, { slug: w.project.slug, from, first: 1 });
    expect(one.data!.project.usageByDeployment.map((x: any) => x.deploymentId)).toEqual([w.chat.id]);
  });

  it('narrows to apiKeyIds: keys without usage are absent', async () => {
    const { kg } = h;
    const w = await world();
    const r = await kg.gql(BY_KEY, { slug: w.project.slug, from, ids: [w.ids.low, w.ids.idle, w.ids.tieFewer], first: 3 });
    expect(r.data!.project.usageByKey.map((x: any) => [x.apiKey.name, x.total.requests])).toEqual([
      ['k-tie-fewer-tokens', 20],
      ['k-low', 1],
    ]);
    const none = await kg.gql(BY_KEY, { slug: w.project.slug, from, ids: [] });
    expect(none.data!.project.usageByKey).toEqual([]);
  });

  it('keeps a deleted key’s totals with apiKey null', async () => {
    const { kg } = h;
    const w = await world();
    expect((await kg.gql(DeleteApiKey, { input: { id: w.ids.tieMore, force: true } })).errors).toBeUndefined();
    const r = await kg.gql(BY_KEY, { slug: w.project.slug, from, first: 2 });
    expect(r.data!.project.usageByKey[1]).toEqual({
      apiKeyId: w.ids.tieMore,
      apiKey: null,
      total: expect.objectContaining({ requests: 20, promptTokens: 9 }),
    });
  });

  it("keeps another project's token out", async () => {
    const { kg } = h;
    const w = await world();
    const elsewhere = await createProject(kg);
    const theirs = (await kg.gql(CreateAccessToken, { input: { name: `rank-${elsewhere.slug}`, projectId: elsewhere.id } })).data!.createAccessToken.token;
    const mine = (await kg.gql(CreateAccessToken, { input: { name: `rank-${w.project.slug}`, projectId: w.project.id } })).data!.createAccessToken.token;
    const foreign = await kg.gql(BY_KEY, { slug: w.project.slug, from }, theirs);
    expect(foreign.data?.project ?? null).toBeNull();
    // Their own project has no usage, and my keys' ids do not reach into mine.
    const own = await kg.gql(BY_KEY, { slug: elsewhere.slug, from, ids: [w.ids.top] }, theirs);
    expect(own.data!.project.usageByKey).toEqual([]);
    expect((await kg.gql(BY_KEY, { slug: w.project.slug, from, first: 1 }, mine)).data!.project.usageByKey[0].apiKeyId).toBe(w.ids.top);
  });

  it('refuses bad first, apiKeyIds and ranges with BAD_USER_INPUT and the field', async () => {
    const { kg } = h;
    const w = await world();
    const cases: [Record<string, unknown>, string][] = [
      [{ first: 0 }, 'first'],
      [{ first: 101 }, 'first'],
      [{ first: 1_000_000 }, 'first'],
      [{ ids: Array.from({ length: 101 }, () => w.ids.top) }, 'apiKeyIds'],
      [{ ids: ['not-an-id'] }, 'apiKeyIds'],
      [{ from: new Date(NOW + 3_600_000).toISOString() }, 'from'],
      [{ from: new Date(NOW - 70 * 86_400_000).toISOString() }, 'from'], // 1,680 HOUR buckets
      [{ g: 'MINUTE', to: from, from: new Date(Date.parse(from) - 2 * 86_400_000).toISOString() }, 'from'],
    ];
    for (const [vars, field] of cases) {
      const r = await kg.gql(BY_KEY, { slug: w.project.slug, from, ...vars });
      expect([JSON.stringify(vars).slice(0, 60), errorCode(r), errorField(r)]).toEqual([JSON.stringify(vars).slice(0, 60), 'BAD_USER_INPUT', field]);
    }
    const d = await kg.gql(BY_DEPLOYMENT, { slug: w.project.slug, from, first: 101 });
    expect([errorCode(d), errorField(d)]).toEqual(['BAD_USER_INPUT', 'first']);
  });
});
