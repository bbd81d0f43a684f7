// A key that has expired cannot be linked (API.md "Fixes to the 0.1 contract"): linkApiKey,
// setDeploymentAuth and createDeployment refuse it with BAD_USER_INPUT naming the field; a key
// that expired while linked may stay in the set, and re-linking it changes nothing.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, useKeygate } from '../helpers/keygate.ts';
import { CreateDeployment, LinkApiKey, SetDeploymentAuth } from '../helpers/operations.ts';

const t = useKeygate();

describe('linking an expired key', () => {
  let sql: pg.Client;
  beforeAll(async () => {
    sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
  });
  afterAll(() => sql?.end());

  /** A key whose expiry has passed (set in the database: the API refuses a past expiresAt). */
  async function expiredKey(projectId: string, name: string) {
    const key = await createKey(t.kg, projectId, name, { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    await sql.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE name = $1`, [name]);
    return key.apiKey;
  }

  it('is refused by linkApiKey, setDeploymentAuth and createDeployment', async () => {
    const project = await createProject(t.kg);
    const old = await expiredKey(project.id, 'old-key');
    const fresh = await createKey(t.kg, project.id, 'fresh-key');
    const deployment = await createDeployment(t.kg, project.id, 'demo');

    const link = await t.kg.gql(LinkApiKey, { input: { deploymentId: deployment.id, apiKeyId: old.id } });
    expect([errorCode(link), errorField(link)]).toEqual(['BAD_USER_INPUT', 'apiKeyId']);
    expect(link.errors![0]!.message).toMatch(/"old-key" has expired/);

    const set = await t.kg.gql(SetDeploymentAuth, { input: { deploymentId: deployment.id, enabled: true, apiKeyIds: [fresh.apiKey.id, old.id] } });
    expect([errorCode(set), errorField(set)]).toEqual(['BAD_USER_INPUT', 'apiKeyIds']);

    const create = await t.kg.gql(CreateDeployment, {
      input: { projectId: project.id, name: 'other', model: 'm', upstreamUrl: 'http://127.0.0.1:9/v1', apiKeyIds: [old.id] },
    });
    expect([errorCode(create), errorField(create)]).toEqual(['BAD_USER_INPUT', 'apiKeyIds']);

    // nothing was linked or created
    const linked = await sql.query(`SELECT count(*)::int AS n FROM api_key_links l JOIN api_keys k ON k.id = l.api_key_id WHERE k.name = 'old-key'`);
    expect(linked.rows[0].n).toBe(0);
    expect((await sql.query(`SELECT count(*)::int AS n FROM deployments WHERE name = 'other'`)).rows[0].n).toBe(0);
  });

  it('lets a key that expired while linked stay linked, and re-linking it succeeds without a change', async () => {
    const project = await createProject(t.kg);
    const key = await createKey(t.kg, project.id, 'was-good', { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const deployment = await createDeployment(t.kg, project.id, 'kept', { authEnabled: true, apiKeyIds: [key.apiKey.id] });
    await sql.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE name = 'was-good'`);

    const relink = await t.kg.gql(LinkApiKey, { input: { deploymentId: deployment.id, apiKeyId: key.apiKey.id } });
    expect(relink.errors).toBeUndefined();
    const same = await t.kg.gql(SetDeploymentAuth, { input: { deploymentId: deployment.id, enabled: false, apiKeyIds: [key.apiKey.id] } });
    expect(same.errors).toBeUndefined();
    expect(same.data!.setDeploymentAuth.deployment.apiKeys.map((k) => k.id)).toEqual([key.apiKey.id]);
  });
});
