import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { hashSecret, isWellFormedSecret } from '../../src/domain/secrets.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, useKeygate } from '../helpers/keygate.ts';
import { CreateApiKey, DeleteApiKey, LinkApiKey, Node, ProjectKeys, UpdateApiKey } from '../helpers/operations.ts';

const t = useKeygate();

const future = () => new Date(Date.now() + 3_600_000).toISOString();

describe('createApiKey', () => {
  it('returns the secret once, stores only its hash, and takes one revision', async () => {
    const project = await createProject(t.kg);
    const created = await createKey(t.kg, project.id, 'ci-runner.prod', { description: 'CI', expiresAt: future() });
    expect(isWellFormedSecret('kg_', created.secret)).toBe(true);
    expect(created.secret.startsWith(created.apiKey.prefix)).toBe(true);
    expect(created.apiKey).toMatchObject({ name: 'ci-runner.prod', description: 'CI', expired: false, lastUsedAt: null, deployments: [] });
    // `start` runs the proxy in the same process: it has applied the change before the mutation returned.
    expect(created.propagation).toMatchObject({ confirmed: true, expected: 1, appliedBy: 1 });

    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT hash, prefix FROM api_keys WHERE name = $1', ['ci-runner.prod']);
      expect(rows).toEqual([{ hash: hashSecret(created.secret), prefix: created.apiKey.prefix }]);
      const dump = JSON.stringify((await client.query('SELECT * FROM api_keys')).rows) + JSON.stringify((await client.query('SELECT * FROM change_events')).rows);
      expect(dump).not.toContain(created.secret);
      // (The expiry sweeper may have warned about it since: it expires inside the warning window.)
      const { rows: events } = await client.query("SELECT revision, type, actor FROM change_events WHERE type <> 'API_KEY_EXPIRING' ORDER BY revision DESC LIMIT 1");
      expect(events[0]).toEqual({ revision: created.propagation.revision, type: 'API_KEY_CREATED', actor: 'admin' });
    } finally {
      await client.end();
    }
    // No query returns the secret or its hash.
    const listed = await t.kg.gql(`query($slug: String!) { project(slug: $slug) { apiKeys { edges { node { id name prefix } } } } }`, { slug: project.slug });
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(JSON.stringify(listed)).not.toContain(hashSecret(created.secret));
    expect(t.kg.logs.join('\n')).not.toContain(created.secret);
    expect(t.kg.logs.join('\n')).not.toContain(hashSecret(created.secret));
  });

  it.each([
    ['abc', 'name'],
    ['Upper-Case', 'name'],
    ['-leading', 'name'],
    ['trailing-', 'name'],
    ['a'.repeat(64), 'name'],
    ['two..dots', 'name'],
  ])('rejects the name %s', async (name, field) => {
    const project = await createProject(t.kg);
    const r = await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name } });
    expect(errorCode(r)).toBe('BAD_USER_INPUT');
    expect(errorField(r)).toBe(field);
  });

  it('accepts names at the limits of the rule', async () => {
    const project = await createProject(t.kg);
    for (const name of ['abcd', 'a'.repeat(63), 'my.key-1.v2']) {
      const r = await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name } });
      expect(r.errors).toBeUndefined();
    }
  });

  it('validates description and expiresAt', async () => {
    const project = await createProject(t.kg);
    const long = await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name: 'long-desc', description: 'x'.repeat(301) } });
    expect([errorCode(long), errorField(long)]).toEqual(['BAD_USER_INPUT', 'description']);
    const past = await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name: 'past-key', expiresAt: '2020-01-01T00:00:00Z' } });
    expect([errorCode(past), errorField(past)]).toEqual(['BAD_USER_INPUT', 'expiresAt']);
    const ok = await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name: 'desc-300', description: 'x'.repeat(300) } });
    expect(ok.errors).toBeUndefined();
  });

  it('rejects a duplicate name in the project with CONFLICT, and allows it in another project', async () => {
    const a = await createProject(t.kg);
    const b = await createProject(t.kg);
    await createKey(t.kg, a.id, 'shared-name');
    const dup = await t.kg.gql(CreateApiKey, { input: { projectId: a.id, name: 'shared-name' } });
    expect([errorCode(dup), errorField(dup)]).toEqual(['CONFLICT', 'name']);
    expect(dup.errors![0]!.message).toBe('an API key named "shared-name" already exists in this project');
    const other = await t.kg.gql(CreateApiKey, { input: { projectId: b.id, name: 'shared-name' } });
    expect(other.errors).toBeUndefined();
  });

  it('answers NOT_FOUND for an unknown project and BAD_USER_INPUT for a malformed id', async () => {
    const unknown = Buffer.from('Project:00000000-0000-7000-8000-000000000000').toString('base64');
    expect(errorCode(await t.kg.gql(CreateApiKey, { input: { projectId: unknown, name: 'some-key' } }))).toBe('NOT_FOUND');
    // The project is reported before the fields, as when it was read first.
    expect(errorCode(await t.kg.gql(CreateApiKey, { input: { projectId: unknown, name: 'X' } }))).toBe('NOT_FOUND');
    const bad = await t.kg.gql(CreateApiKey, { input: { projectId: 'not-an-id', name: 'some-key' } });
    expect([errorCode(bad), errorField(bad)]).toEqual(['BAD_USER_INPUT', 'projectId']);
  });
});

describe('updateApiKey', () => {
  it('changes only the given fields; explicit null expiry makes the key permanent', async () => {
    const project = await createProject(t.kg);
    const { apiKey } = await createKey(t.kg, project.id, 'to-update', { description: 'before', expiresAt: future() });
    const renamed = await t.kg.gql(UpdateApiKey, { input: { id: apiKey.id, name: 'updated' } });
    expect(renamed.data?.updateApiKey.apiKey).toMatchObject({ name: 'updated', description: 'before' });
    expect(renamed.data?.updateApiKey.apiKey.expiresAt).not.toBeNull();
    const permanent = await t.kg.gql(UpdateApiKey, { input: { id: apiKey.id, expiresAt: null } });
    expect(permanent.data?.updateApiKey.apiKey.expiresAt).toBeNull();
  });

  it('takes no revision when nothing changes', async () => {
    const project = await createProject(t.kg);
    const { apiKey } = await createKey(t.kg, project.id, 'no-op-key', { description: 'same' });
    const first = await t.kg.gql(UpdateApiKey, { input: { id: apiKey.id, description: 'changed' } });
    const again = await t.kg.gql(UpdateApiKey, { input: { id: apiKey.id, description: 'changed', name: 'no-op-key' } });
    expect(again.data?.updateApiKey.propagation.revision).toBe(first.data?.updateApiKey.propagation.revision);
  });

  it('rejects null for the name, a bad name, a past expiry and an unknown id', async () => {
    const project = await createProject(t.kg);
    const { apiKey } = await createKey(t.kg, project.id, 'strict-key');
    expect(errorField(await t.kg.gql(UpdateApiKey, { input: { id: apiKey.id, name: null } }))).toBe('name');
    expect(errorField(await t.kg.gql(UpdateApiKey, { input: { id: apiKey.id, name: 'NO' } }))).toBe('name');
    expect(errorField(await t.kg.gql(UpdateApiKey, { input: { id: apiKey.id, expiresAt: '2001-01-01T00:00:00Z' } }))).toBe('expiresAt');
    const unknown = Buffer.from('ApiKey:00000000-0000-7000-8000-000000000000').toString('base64');
    expect(errorCode(await t.kg.gql(UpdateApiKey, { input: { id: unknown, name: 'whatever' } }))).toBe('NOT_FOUND');
  });

  it('rejects renaming onto another key', async () => {
    const project = await createProject(t.kg);
    await createKey(t.kg, project.id, 'first-key');
    const { apiKey } = await createKey(t.kg, project.id, 'second-key');
    expect(errorCode(await t.kg.gql(UpdateApiKey, { input: { id: apiKey.id, name: 'first-key' } }))).toBe('CONFLICT');
  });
});

describe('deleteApiKey', () => {
  it('refuses a linked key without force, and with force unlinks it in the same change', async () => {
    const project = await createProject(t.kg);
    const { apiKey } = await createKey(t.kg, project.id, 'linked-key');
    const deployment = await createDeployment(t.kg, project.id, 'demo', { apiKeyIds: [apiKey.id], authEnabled: true });
    const refused = await t.kg.gql(DeleteApiKey, { input: { id: apiKey.id } });
    expect(errorCode(refused)).toBe('CONFLICT');
    const forced = await t.kg.gql(DeleteApiKey, { input: { id: apiKey.id, force: true } });
    expect(forced.data?.deleteApiKey.deletedApiKeyId).toBe(apiKey.id);
    expect((await t.kg.gql(Node, { id: apiKey.id })).data?.node).toBeNull();
    const after = await t.kg.gql(Node, { id: deployment.id });
    expect(after.data?.node).toMatchObject({ name: 'demo' });
    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT type, payload FROM change_events WHERE revision = $1', [forced.data?.deleteApiKey.propagation.revision]);
      expect(rows[0].type).toBe('API_KEY_DELETED');
      expect(rows[0].payload.deployments).toEqual([expect.objectContaining({ name: 'demo', apiKeyIds: [] })]);
    } finally {
      await client.end();
    }
  });

  it('deletes an unlinked key; a second delete is NOT_FOUND', async () => {
    const project = await createProject(t.kg);
    const { apiKey } = await createKey(t.kg, project.id, 'lonely-key');
    expect((await t.kg.gql(DeleteApiKey, { input: { id: apiKey.id } })).errors).toBeUndefined();
    expect(errorCode(await t.kg.gql(DeleteApiKey, { input: { id: apiKey.id } }))).toBe('NOT_FOUND');
  });
});

describe('listing keys', () => {
  it('lists 1,000 keys with their deployments in a fixed, small number of SQL queries', async () => {
    const project = await createProject(t.kg);
    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO api_keys (id, project_id, name, prefix, hash)
         SELECT gen_random_uuid(), $1::uuid, 'bulk-' || i, 'kg_bulk', md5(random()::text) || i FROM generate_series(1, 1000) i`,
        [Buffer.from(project.id, 'base64').toString().split(':')[1]],
      );
    } finally {
      await client.end();
    }
    const keys = await t.kg.gql(ProjectKeys, { slug: project.slug, first: 10 });
    const d1 = await createDeployment(t.kg, project.id, 'dep-one', { apiKeyIds: keys.data!.project!.apiKeys.edges.map((e) => e.node.id) });
    await t.kg.gql(LinkApiKey, { input: { deploymentId: (await createDeployment(t.kg, project.id, 'dep-two')).id, apiKeyId: keys.data!.project!.apiKeys.edges[0]!.node.id } });

    t.kg.queries.length = 0;
    const r = await t.kg.gql(ProjectKeys, { slug: project.slug, first: 1000 });
    // Token checks, background polls (feed_state: also the response cache's head read) and the expiry sweeper left out.
    const statements = t.kg.queries.filter((q) => !/^(BEGIN|COMMIT)/i.test(q) && !/access_tokens|feed_state|expiry_announced|expiring_announced/.test(q));
    expect(r.data?.project?.apiKeys.totalCount).toBe(1000);
    expect(r.data?.project?.apiKeys.edges).toHaveLength(1000);
    expect(r.data?.project?.apiKeys.edges[0]?.node.deployments.map((d) => d.name)).toEqual(['dep-one', 'dep-two']);
    expect(r.data?.project?.apiKeys.edges[0]?.node.deployments[0]?.id).toBe(d1.id);
    expect(statements.length).toBeLessThanOrEqual(6);
    console.log(`1,000-key list: ${statements.length} SQL statements`);
  });
});
