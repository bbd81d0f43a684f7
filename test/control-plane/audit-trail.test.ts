// Project.events: the retained change log as an audit trail, newest first, narrowed by type,
// actor, key and deployment, paged by revision; a project token reaches only its own project's.
import { expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, useKeygate } from '../helpers/keygate.ts';
import { CreateAccessToken, DeleteApiKey, LinkApiKey, UnlinkApiKey } from '../helpers/operations.ts';

const t = useKeygate();

const EVENTS = `query($slug: String!, $first: Int, $after: String, $types: [ProjectEventType!], $actor: String, $apiKeyId: ID, $deploymentId: ID) {
  project(slug: $slug) {
    events(first: $first, after: $after, types: $types, actor: $actor, apiKeyId: $apiKeyId, deploymentId: $deploymentId) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { type revision actor apiKeyId deploymentId apiKey { name } deployment { name } } }
    }
  }
}`;

interface EventNode {
  type: string;
  revision: number;
  actor: string | null;
  apiKeyId: string | null;
  deploymentId: string | null;
  apiKey: { name: string } | null;
  deployment: { name: string } | null;
}
interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: EventNode }[];
}

async function events(slug: string, args: Record<string, unknown> = {}, token?: string): Promise<Page> {
  const r = await t.kg.gql<{ project: { events: Page } | null }>(EVENTS, { slug, ...args }, token);
  if (!r.data?.project) throw new Error(`events failed: ${JSON.stringify(r.errors ?? r.data)}`);
  return r.data.project.events;
}

const kinds = (page: Page) => page.edges.map((e) => [e.node.type, e.node.apiKey?.name ?? null, e.node.deployment?.name ?? null, e.node.actor]);

it('lists the project change log newest first, filtered by type, actor, key and deployment, in pages', async () => {
  const project = await createProject(t.kg);
  const other = await createProject(t.kg);
  const token = await t.kg.gql(CreateAccessToken, { input: { name: `ops-${project.slug}`, projectId: project.id } });
  const opsToken = token.data!.createAccessToken.token;
  const otherToken = (await t.kg.gql(CreateAccessToken, { input: { name: `ops-${other.slug}`, projectId: other.id } })).data!.createAccessToken.token;

  const alpha = await createKey(t.kg, project.id, 'alpha-key');
  const beta = await createKey(t.kg, project.id, 'beta-key');
  const chat = await createDeployment(t.kg, project.id, 'chat', { authEnabled: true });
  const embed = await createDeployment(t.kg, project.id, 'embed');
  await t.kg.gql(LinkApiKey, { input: { deploymentId: chat.id, apiKeyId: alpha.apiKey.id } });
  // The project token unlinks alpha and rotates beta: its name is the actor.
  expect((await t.kg.gql(UnlinkApiKey, { input: { deploymentId: chat.id, apiKeyId: alpha.apiKey.id } }, opsToken)).errors).toBeUndefined();
  const rotated = await t.kg.gql(`mutation($id: ID!) { rotateApiKey(input: { id: $id, overlapSeconds: 60 }) { secret } }`, { id: beta.apiKey.id }, opsToken);
  expect(rotated.errors).toBeUndefined();
  await createKey(t.kg, other.id, 'elsewhere-key');

  const all = await events(project.slug);
  expect(all.totalCount).toBe(7);
  expect(kinds(all)).toEqual([
    ['API_KEY_ROTATED', 'beta-key', null, `ops-${project.slug}`],
    ['API_KEY_UNLINKED', 'alpha-key', 'chat', `ops-${project.slug}`],
    ['API_KEY_LINKED', 'alpha-key', 'chat', 'admin'],
    ['DEPLOYMENT_CREATED', null, 'embed', 'admin'],
    ['DEPLOYMENT_CREATED', null, 'chat', 'admin'],
    ['API_KEY_CREATED', 'beta-key', null, 'admin'],
    ['API_KEY_CREATED', 'alpha-key', null, 'admin'],
  ]);
  const revisions = all.edges.map((e) => e.node.revision);
  expect([...revisions].sort((a, b) => b - a)).toEqual(revisions);
  // Nothing of the secret or its hash: the event's state is not part of ProjectEvent.
  expect(JSON.stringify(all)).not.toContain(rotated.data!.rotateApiKey.secret);

  expect(kinds(await events(project.slug, { types: ['API_KEY_ROTATED'] }))).toEqual([['API_KEY_ROTATED', 'beta-key', null, `ops-${project.slug}`]]);
  expect(kinds(await events(project.slug, { types: ['API_KEY_LINKED', 'API_KEY_UNLINKED'] })).map((k) => k[0])).toEqual(['API_KEY_UNLINKED', 'API_KEY_LINKED']);
  expect(kinds(await events(project.slug, { actor: `ops-${project.slug}` })).map((k) => k[0])).toEqual(['API_KEY_ROTATED', 'API_KEY_UNLINKED']);
  expect((await events(project.slug, { actor: 'nobody' })).edges).toEqual([]);
  // A link event matches both its key and its deployment.
  expect(kinds(await events(project.slug, { apiKeyId: alpha.apiKey.id })).map((k) => k[0])).toEqual(['API_KEY_UNLINKED', 'API_KEY_LINKED', 'API_KEY_CREATED']);
  expect(kinds(await events(project.slug, { deploymentId: chat.id })).map((k) => k[0])).toEqual(['API_KEY_UNLINKED', 'API_KEY_LINKED', 'DEPLOYMENT_CREATED']);
  expect(kinds(await events(project.slug, { deploymentId: embed.id })).map((k) => k[0])).toEqual(['DEPLOYMENT_CREATED']);
  const both = await events(project.slug, { apiKeyId: alpha.apiKey.id, deploymentId: chat.id, types: ['API_KEY_LINKED'], actor: 'admin' });
  expect(both.totalCount).toBe(1);
  expect(kinds(both)).toEqual([['API_KEY_LINKED', 'alpha-key', 'chat', 'admin']]);

  // Pages of 3: the same events in the same order, the last page says there is no next.
  const paged: EventNode[] = [];
  let after: string | null = null;
  for (let i = 0; i < 5; i++) {
    const page: Page = await events(project.slug, { first: 3, after });
    paged.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  expect(paged).toEqual(all.edges.map((e) => e.node));
  // A page is not shifted by events recorded after its cursor was issued.
  const firstPage = await events(project.slug, { first: 2 });
  await createKey(t.kg, project.id, 'gamma-key');
  const second = await events(project.slug, { first: 2, after: firstPage.pageInfo.endCursor });
  expect(second.edges.map((e) => e.node)).toEqual(all.edges.slice(2, 4).map((e) => e.node));

  // The project token sees its project's trail, and not another project's.
  expect((await events(project.slug, {}, opsToken)).totalCount).toBe(8);
  const foreign = await t.kg.gql<{ project: unknown }>(EVENTS, { slug: other.slug }, opsToken);
  expect(foreign.data?.project).toBeNull();
  expect(kinds(await events(other.slug, {}, otherToken))).toEqual([['API_KEY_CREATED', 'elsewhere-key', null, 'admin']]);
  const viaNode = await t.kg.gql(`query($id: ID!) { node(id: $id) { ... on Project { events { totalCount } } } }`, { id: project.id }, otherToken);
  expect(viaNode.data?.node).toBeNull();
}, 60_000);

it('refuses a cursor it did not issue, a page size outside 1–1000, and ids of the wrong type', async () => {
  const project = await createProject(t.kg);
  const key = await createKey(t.kg, project.id, 'some-key');
  for (const [args, field] of [
    [{ after: 'bm90LWEtY3Vyc29y' }, 'after'],
    [{ after: Buffer.from('ProjectEvent:0').toString('base64') }, 'after'],
    [{ first: 0 }, 'first'],
    [{ first: 1001 }, 'first'],
    [{ apiKeyId: project.id }, 'apiKeyId'],
    [{ deploymentId: key.apiKey.id }, 'deploymentId'],
  ] as const) {
    const r = await t.kg.gql(EVENTS, { slug: project.slug, ...args });
    expect([errorCode(r), errorField(r)], JSON.stringify(args)).toEqual(['BAD_USER_INPUT', field]);
  }
  const unknownType = await t.kg.gql(EVENTS, { slug: project.slug, types: ['NOT_A_TYPE'] });
  expect(unknownType.errors?.length).toBeGreaterThan(0);
});

it('a forced key delete is in the trail of every deployment it unlinked the key from', async () => {
  const project = await createProject(t.kg);
  const key = await createKey(t.kg, project.id, 'doomed-key');
  const one = await createDeployment(t.kg, project.id, 'one', { authEnabled: true, apiKeyIds: [key.apiKey.id] });
  const two = await createDeployment(t.kg, project.id, 'two', { authEnabled: true, apiKeyIds: [key.apiKey.id] });
  const untouched = await createDeployment(t.kg, project.id, 'three');
  expect((await t.kg.gql(DeleteApiKey, { input: { id: key.apiKey.id, force: true } })).errors).toBeUndefined();
  for (const d of [one, two]) {
    expect((await events(project.slug, { deploymentId: d.id })).edges.map((e) => e.node.type)).toEqual(['API_KEY_DELETED', 'DEPLOYMENT_CREATED']);
  }
  expect((await events(project.slug, { deploymentId: untouched.id })).edges.map((e) => e.node.type)).toEqual(['DEPLOYMENT_CREATED']);
  // The deleted key's events keep its id; the key itself reads as null.
  const byKey = await events(project.slug, { apiKeyId: key.apiKey.id });
  expect(byKey.edges.map((e) => [e.node.type, e.node.apiKeyId, e.node.apiKey])).toEqual([
    ['API_KEY_DELETED', key.apiKey.id, null],
    ['API_KEY_CREATED', key.apiKey.id, null],
  ]);
});
