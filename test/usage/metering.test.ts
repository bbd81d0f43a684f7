// Usage metering end to end in one keygate (the `keygate start` assembly on the real Postgres): the
// real openai SDK through the proxy to an upstream that reports known token counts, then the
// counts read back through GraphQL (ApiKey/Deployment/Project.usage) and live (usageUpdates over
// graphql-ws and SSE), within the 10 s the API promises.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, useKeygate, waitForSubscribers } from '../helpers/keygate.ts';
import { CreateAccessToken, DeleteApiKey, DeleteDeployment } from '../helpers/operations.ts';
import { clientPool, sse, sleep } from '../subscriptions/helpers.ts';
import { startUsageUpstream, type UsageUpstream, within10s } from './helpers.ts';

const h = useKeygate();
const clients = clientPool();
let upstream: UsageUpstream;

beforeAll(async () => {
  upstream = await startUsageUpstream();
});
afterAll(async () => {
  await clients.disposeAll();
  await upstream?.stop();
});

const TOTAL = 'total { requests errors rejected rateLimited promptTokens completionTokens }';
const KEY_USAGE = `query($id: ID!, $from: DateTime!, $d: ID) { node(id: $id) { ... on ApiKey { usage(from: $from, deploymentId: $d) { granularity from to ${TOTAL} buckets { start requests } } } } }`;
const DEPLOYMENT_USAGE = `query($id: ID!, $from: DateTime!, $k: ID) { node(id: $id) { ... on Deployment { usage(from: $from, apiKeyId: $k, granularity: MINUTE) { ${TOTAL} } } } }`;
const PROJECT_USAGE = `query($slug: String!, $from: DateTime!) { project(slug: $slug) { usage(from: $from, granularity: DAY) { ${TOTAL} } } }`;
const UPDATES = `subscription($p: ID!) { usageUpdates(projectId: $p) { at deploymentId apiKeyId requests errors rejected rateLimited promptTokens completionTokens } }`;

const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString();
const totals = (requests: number, errors: number, rejected: number, promptTokens: number, completionTokens: number) => ({
  requests,
  errors,
  rejected,
  rateLimited: 0,
  promptTokens,
  completionTokens,
});

async function world(prefix: string) {
  const { kg } = h;
  const project = await createProject(kg);
  const key = await createKey(kg, project.id, `${prefix}-key`);
  const other = await createKey(kg, project.id, `${prefix}-unlinked`);
  const deployment = await createDeployment(kg, project.id, 'chat', { upstreamUrl: upstream.url, authEnabled: true, apiKeyIds: [key.apiKey.id] });
  const base = `http://127.0.0.1:${kg.running.proxy!.port}/${project.slug}/chat`;
  return { project, key, other, deployment, base };
}

describe('usage metering', () => {
  it('counts requests, errors, refusals and tokens from JSON and streams, per key and per deployment', async () => {
    const { kg } = h;
    const w = await world('meter');
    const client = new OpenAI({ baseURL: `${w.base}/v1`, apiKey: w.key.secret, maxRetries: 0 });
    const ask = (content: string) => ({ model: 'm', messages: [{ role: 'user' as const, content }] });

    for (let i = 0; i < 2; i++) expect((await client.chat.completions.create(ask('tokens 11 22'))).usage?.prompt_tokens).toBe(11);
    const read = async (stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) => {
      let usage: unknown = null;
      for await (const c of stream) if (c.usage) usage = c.usage;
      return usage;
    };
    expect(await read(await client.chat.completions.create({ ...ask('tokens 5 7'), stream: true, stream_options: { include_usage: true } }))).toMatchObject({ prompt_tokens: 5 });
    // The usage event split across three TCP writes is still counted.
    const split = await client.chat.completions.create(
      { ...ask('tokens 3 4'), stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-test-split-usage': '1' } },
    );
    expect(await read(split)).toMatchObject({ completion_tokens: 4 });
    // Without include_usage: the request counts, with no tokens.
    expect(await read(await client.chat.completions.create({ ...ask('tokens 100 100'), stream: true }))).toBeNull();
    // An upstream 500 is an error; a gzip body is counted without its tokens.
    const post = (path: string, headers: Record<string, string> = { 'x-api-key': w.key.secret }) =>
      fetch(`${w.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    expect(await post('/v1/fail')).toBe(500);
    expect(await post('/v1/gzip')).toBe(200);
    // Refusals: the unlinked key of this project counts on that key and the deployment; no key and a
    // malformed key count on the deployment only.
    expect(await post('/v1/chat/completions', { 'x-api-key': w.other.secret })).toBe(401);
    expect(await post('/v1/chat/completions', {})).toBe(401);
    expect(await post('/v1/chat/completions', { 'x-api-key': 'kg_not-a-key' })).toBe(401);

    const keyTotal = async (id: string, d?: string) => ((await kg.gql(KEY_USAGE, { id, from: hourAgo(), d })).data?.node as any)?.usage.total;
    const deploymentTotal = async (k?: string) => ((await kg.gql(DEPLOYMENT_USAGE, { id: w.deployment.id, from: hourAgo(), k })).data?.node as any)?.usage.total;

    // 7 forwarded: 2 JSON (11/22 each), 3 streams (5/7, 3/4, none), the 500, the gzip body.
    const key = totals(7, 1, 0, 2 * 11 + 5 + 3, 2 * 22 + 7 + 4);
    // The deployment's total holds every request above, the refusals last: once it is complete, a
    // flush that fell between the forwarded requests and the refusals has been followed by the next.
    expect(await within10s(() => deploymentTotal(), { ...key, rejected: 3 })).toEqual({ ...key, rejected: 3 });
    expect(await keyTotal(w.key.apiKey.id)).toEqual(key);
    expect(await keyTotal(w.key.apiKey.id, w.deployment.id)).toEqual(key);
    expect(await keyTotal(w.other.apiKey.id)).toEqual(totals(0, 0, 1, 0, 0));
    expect(await deploymentTotal(w.other.apiKey.id)).toEqual(totals(0, 0, 1, 0, 0));

    const series = ((await kg.gql(KEY_USAGE, { id: w.key.apiKey.id, from: hourAgo() })).data?.node as any).usage;
    expect(series.granularity).toBe('HOUR');
    expect(series.buckets.reduce((n: number, b: { requests: number }) => n + b.requests, 0)).toBe(7);
    expect(series.from.endsWith(':00:00.000Z')).toBe(true);

    // lastUsedAt came with the same flush.
    const used = await kg.gql(`query($id: ID!) { node(id: $id) { ... on ApiKey { lastUsedAt } } }`, { id: w.key.apiKey.id });
    expect((used.data?.node as any).lastUsedAt).not.toBeNull();

    // Deleting the key and the deployment does not shrink the project's usage.
    const project = async () => (await kg.gql(PROJECT_USAGE, { slug: w.project.slug, from: hourAgo() })).data?.project.usage.total;
    const before = await project();
    expect(before).toEqual({ ...key, rejected: 3 });
    expect((await kg.gql(DeleteDeployment, { input: { id: w.deployment.id } })).errors).toBeUndefined();
    expect((await kg.gql(DeleteApiKey, { input: { id: w.key.apiKey.id, force: true } })).errors).toBeUndefined();
    expect(await project()).toEqual(before);
  }, 60_000);

  it('delivers usageUpdates within 10 s over graphql-ws and SSE; another project token gets NOT_FOUND', async () => {
    const { kg } = h;
    const w = await world('live');
    const mine = (await kg.gql(CreateAccessToken, { input: { name: `usage-${w.project.slug}`, projectId: w.project.id } })).data!.createAccessToken.token;
    const elsewhere = await createProject(kg);
    const theirs = (await kg.gql(CreateAccessToken, { input: { name: `usage-${elsewhere.slug}`, projectId: elsewhere.id } })).data!.createAccessToken.token;

    const before = kg.running.controlPlane!.stats().subscribers;
    const ws = clients.open(kg, mine);
    const updates: any[] = [];
    const errors: unknown[] = [];
    ws.client.subscribe<{ usageUpdates: unknown }>(
      { query: UPDATES, variables: { p: w.project.id } },
      { next: (r) => (r.data ? updates.push(r.data.usageUpdates) : errors.push(r.errors)), error: (e) => errors.push(e), complete: () => {} },
    );
    const stream = await sse(kg.url, UPDATES, { p: w.project.id }, mine);
    await waitForSubscribers(kg, before + 2); // both subscriptions are open

    const res = await fetch(`${w.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': w.key.secret },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'tokens 9 8' }] }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const ended = Date.now();
    while (Date.now() - ended < 10_000 && (updates.length === 0 || stream.events.filter((e) => e.event === 'next').length === 0)) await sleep(100);
    const expected = { deploymentId: w.deployment.id, apiKeyId: w.key.apiKey.id, requests: 1, errors: 0, rejected: 0, rateLimited: 0, promptTokens: 9, completionTokens: 8 };
    expect(errors).toEqual([]);
    expect(updates).toEqual([{ ...expected, at: expect.any(String) }]);
    expect(stream.events.find((e) => e.event === 'next')?.data.data.usageUpdates).toEqual({ ...expected, at: expect.any(String) });
    stream.abort();

    // Another project's token: NOT_FOUND on the subscription, nothing through the queries.
    const foreign = await kg.gql(UPDATES.replace('subscription', 'subscription Foreign'), { p: w.project.id }, theirs);
    expect(errorCode(foreign)).toBe('NOT_FOUND');
    const wsForeign = clients.open(kg, theirs);
    const foreignErrors: any[] = [];
    await new Promise<void>((resolve) =>
      wsForeign.client.subscribe({ query: UPDATES, variables: { p: w.project.id } }, { next: (r) => foreignErrors.push(r.errors), error: (e) => (foreignErrors.push(e), resolve()), complete: resolve }),
    );
    expect(foreignErrors.flat()[0]?.extensions?.code).toBe('NOT_FOUND');
    const node = await kg.gql(KEY_USAGE, { id: w.key.apiKey.id, from: hourAgo() }, theirs);
    expect(node.data?.node).toBeNull();
    expect((await kg.gql(PROJECT_USAGE, { slug: w.project.slug, from: hourAgo() }, theirs)).data?.project).toBeNull();
  }, 60_000);

  it('refuses a range over 1,500 buckets (field "from") and counts buckets in the query cost', async () => {
    const { kg } = h;
    const w = await world('range');
    const tooLong = await kg.gql(PROJECT_USAGE.replace('DAY', 'MINUTE'), { slug: w.project.slug, from: new Date(Date.now() - 26 * 3_600_000).toISOString() });
    expect(errorCode(tooLong)).toBe('BAD_USER_INPUT');
    expect(errorField(tooLong)).toBe('from');
    const inverted = await kg.gql(PROJECT_USAGE, { slug: w.project.slug, from: new Date(Date.now() + 3_600_000).toISOString() });
    expect(errorField(inverted)).toBe('from');
    // 1,000 keys' worth of 1,500-bucket series is far over the budget, whatever the page holds.
    const costly = await kg.gql(
      `query($slug: String!, $from: DateTime!) { project(slug: $slug) { apiKeys(first: 1000) { edges { node { usage(from: $from, granularity: MINUTE) { buckets { start requests } } } } } } }`,
      { slug: w.project.slug, from: new Date(Date.now() - 24 * 3_600_000).toISOString() },
    );
    expect(errorCode(costly)).toBe('QUERY_TOO_COSTLY');
  }, 30_000);
});
