import { describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { ADMIN_TOKEN, errorCode, useKeygate } from '../helpers/keygate.ts';
import {
  AccessTokens,
  CreateAccessToken,
  CreateApiKey,
  CreateProject,
  DeleteAccessToken,
  LinkApiKey,
  Node,
  Projects,
  ViewerQuery,
} from '../helpers/operations.ts';

const t = useKeygate();

async function projectToken(projectId: string, name: string) {
  const r = await t.kg.gql(CreateAccessToken, { input: { name, projectId } });
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.createAccessToken;
}

describe('access tokens', () => {
  it('answers 401 UNAUTHENTICATED without a token, with a wrong one, and with a malformed header', async () => {
    for (const token of [null, 'kgat_wrongwrongwrongwrongwrongwrong', 'nonsense']) {
      const r = await t.kg.gql(ViewerQuery, {}, token);
      expect(r.status).toBe(401);
      expect(errorCode(r)).toBe('UNAUTHENTICATED');
      expect(r.data ?? null).toBeNull();
    }
  });

  it('confines a project token to its project', async () => {
    const mine = await createProject(t.kg);
    const other = await createProject(t.kg);
    const otherKey = await createKey(t.kg, other.id, 'not-yours');
    const otherDeployment = await createDeployment(t.kg, other.id, 'not-yours');
    const { token } = await projectToken(mine.id, `tok-${mine.slug}`);

    const viewer = await t.kg.gql(ViewerQuery, {}, token);
    expect(viewer.data?.viewer).toEqual({ role: 'PROJECT', tokenName: `tok-${mine.slug}`, project: { slug: mine.slug } });

    // Reads outside the project look like nothing is there.
    expect((await t.kg.gql(Node, { id: otherKey.apiKey.id }, token)).data?.node).toBeNull();
    expect((await t.kg.gql(Node, { id: other.id }, token)).data?.node).toBeNull();
    expect((await t.kg.gql(`query($s: String!) { project(slug: $s) { id } }`, { s: other.slug }, token)).data?.project).toBeNull();
    const listed = await t.kg.gql(Projects, {}, token);
    expect(listed.data?.projects.edges.map((e) => e.node.slug)).toEqual([mine.slug]);
    expect(listed.data?.projects.totalCount).toBe(1);

    // Writes outside it are NOT_FOUND; what the role may not do is FORBIDDEN.
    expect(errorCode(await t.kg.gql(CreateApiKey, { input: { projectId: other.id, name: 'sneaky' } }, token))).toBe('NOT_FOUND');
    const myDeployment = await createDeployment(t.kg, mine.id, 'mine');
    expect(errorCode(await t.kg.gql(LinkApiKey, { input: { deploymentId: myDeployment.id, apiKeyId: otherKey.apiKey.id } }, token))).toBe('NOT_FOUND');
    expect(errorCode(await t.kg.gql(LinkApiKey, { input: { deploymentId: otherDeployment.id, apiKeyId: otherKey.apiKey.id } }, token))).toBe('NOT_FOUND');
    expect(errorCode(await t.kg.gql(CreateProject, { slug: 'forbidden-project' }, token))).toBe('FORBIDDEN');
    expect(errorCode(await t.kg.gql(CreateAccessToken, { input: { name: 'new-admin' } }, token))).toBe('FORBIDDEN');
    expect(errorCode(await t.kg.gql(CreateAccessToken, { input: { name: 'x-other', projectId: other.id } }, token))).toBe('NOT_FOUND');

    // Inside it, everything works, including making more tokens for it.
    expect((await t.kg.gql(CreateApiKey, { input: { projectId: mine.id, name: 'allowed' } }, token)).errors).toBeUndefined();
    const second = await t.kg.gql(CreateAccessToken, { input: { name: `tok2-${mine.slug}`, projectId: mine.id } }, token);
    expect(second.errors).toBeUndefined();
    const tokens = await t.kg.gql(AccessTokens, {}, token);
    expect(tokens.data?.accessTokens.edges.map((e) => e.node.name).sort()).toEqual([`tok-${mine.slug}`, `tok2-${mine.slug}`]);
  });

  it('records the token name as the actor of changes', async () => {
    const project = await createProject(t.kg);
    const { token } = await projectToken(project.id, `actor-${project.slug}`);
    const created = await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name: 'by-token' } }, token);
    const { rows } = await import('pg').then(async ({ default: pg }) => {
      const c = new pg.Client({ connectionString: t.db.url });
      await c.connect();
      try {
        return await c.query('SELECT actor FROM change_events WHERE revision = $1', [created.data?.createApiKey.propagation.revision]);
      } finally {
        await c.end();
      }
    });
    expect(rows).toEqual([{ actor: `actor-${project.slug}` }]);
  });

  it('deleting a token ends its access; expired tokens are refused', async () => {
    const project = await createProject(t.kg);
    const { id, token } = await projectToken(project.id, `doomed-${project.slug}`);
    expect((await t.kg.gql(ViewerQuery, {}, token)).status).toBe(200);
    expect((await t.kg.gql(DeleteAccessToken, { input: { id } }, ADMIN_TOKEN)).data?.deleteAccessToken.deletedAccessTokenId).toBe(id);
    expect((await t.kg.gql(ViewerQuery, {}, token)).status).toBe(401);
    expect(errorCode(await t.kg.gql(DeleteAccessToken, { input: { id } }))).toBe('NOT_FOUND');
    const past = await t.kg.gql(CreateAccessToken, { input: { name: 'too-late', expiresAt: '2001-01-01T00:00:00Z' } });
    expect(errorCode(past)).toBe('BAD_USER_INPUT');
  });

  it('rejects a duplicate token name', async () => {
    await t.kg.gql(CreateAccessToken, { input: { name: 'unique-name' } });
    expect(errorCode(await t.kg.gql(CreateAccessToken, { input: { name: 'unique-name' } }))).toBe('CONFLICT');
  });

  // Issue 15, finding 6: names were unique across projects, so a project token learned other
  // projects' token names from CONFLICT answers.
  it('keeps token names per project: another project\'s names are no oracle, and admin names are their own namespace', async () => {
    const mine = await createProject(t.kg);
    const other = await createProject(t.kg);
    await projectToken(other.id, 'ci-deploy');
    await t.kg.gql(CreateAccessToken, { input: { name: 'ops-root' } }); // an admin token
    const { token } = await projectToken(mine.id, `probe-${mine.slug}`);
    for (const name of ['ci-deploy', 'ops-root']) {
      const r = await t.kg.gql(CreateAccessToken, { input: { name, projectId: mine.id } }, token);
      expect(r.errors).toBeUndefined();
    }
    const again = await t.kg.gql(CreateAccessToken, { input: { name: 'ci-deploy', projectId: mine.id } }, token);
    expect(errorCode(again)).toBe('CONFLICT');
    expect(again.errors![0]!.message).toBe('an access token named "ci-deploy" already exists in this project');
    const admin = await t.kg.gql(CreateAccessToken, { input: { name: 'ops-root' } });
    expect(errorCode(admin)).toBe('CONFLICT');
  });

  // Issue 15, finding 5: a project token expiring in 3 s minted a never-expiring token, which
  // kept working after the first had expired.
  it('caps a minted token\'s expiry at its minter\'s, so it never outlives it', async () => {
    const project = await createProject(t.kg);
    // Seconds of life the mutations and reads below fit in on a loaded machine.
    const minterExpiry = new Date(Date.now() + 8000);
    const minter = await t.kg.gql(CreateAccessToken, { input: { name: `minter-${project.slug}`, projectId: project.id, expiresAt: minterExpiry.toISOString() } });
    const short = minter.data!.createAccessToken.token;
    const never = await t.kg.gql(CreateAccessToken, { input: { name: `minted-${project.slug}`, projectId: project.id } }, short);
    const later = await t.kg.gql(
      CreateAccessToken,
      { input: { name: `later-${project.slug}`, projectId: project.id, expiresAt: new Date(Date.now() + 86_400_000).toISOString() } },
      short,
    );
    const sooner = new Date(Date.now() + 5000);
    const earlier = await t.kg.gql(CreateAccessToken, { input: { name: `sooner-${project.slug}`, projectId: project.id, expiresAt: sooner.toISOString() } }, short);
    const expiryOf = async (id: string) =>
      (await t.kg.gql(`query($id: ID!) { node(id: $id) { ... on AccessToken { expiresAt } } }`, { id })).data?.node?.expiresAt;
    expect(await expiryOf(never.data!.createAccessToken.id)).toBe(minterExpiry.toISOString());
    expect(await expiryOf(later.data!.createAccessToken.id)).toBe(minterExpiry.toISOString());
    expect(await expiryOf(earlier.data!.createAccessToken.id)).toBe(sooner.toISOString());

    const minted = never.data!.createAccessToken.token;
    expect((await t.kg.gql(ViewerQuery, {}, minted)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, minterExpiry.getTime() - Date.now() + 50));
    expect((await t.kg.gql(ViewerQuery, {}, short)).status).toBe(401);
    const after = await t.kg.gql(ViewerQuery, {}, minted);
    expect([after.status, errorCode(after)]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('projects', () => {
  it('validates slugs and rejects duplicates', async () => {
    expect(errorCode(await t.kg.gql(CreateProject, { slug: 'Not A Slug' }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.kg.gql(CreateProject, { slug: 'x'.repeat(64) }))).toBe('BAD_USER_INPUT');
    const p = await createProject(t.kg);
    expect(p.name).toBe(p.slug);
    expect(errorCode(await t.kg.gql(CreateProject, { slug: p.slug }))).toBe('CONFLICT');
  });
});
