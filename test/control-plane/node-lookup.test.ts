// Issue 15, finding 7: node(id:) answered "Unexpected error." with an error-level log and a stack
// for every unknown or foreign id, so any token could fill the error log. API.md ("Fixes to the
// 0.1 contract"): null, no error and no error log, for an unknown, a malformed-but-decodable or an
// out-of-reach id; only an id that is not a global id at all is BAD_USER_INPUT.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { CreateAccessToken, Node } from '../helpers/operations.ts';
import { errorCode, errorField, useKeygate } from '../helpers/keygate.ts';

const t = useKeygate();
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('node(id:)', () => {
  it('answers null with no error and nothing logged at error level for unknown, malformed-but-decodable and out-of-reach ids', async () => {
    const mine = await createProject(t.kg);
    const other = await createProject(t.kg);
    const foreignKey = await createKey(t.kg, other.id, 'theirs');
    const foreignDeployment = await createDeployment(t.kg, other.id, 'theirs');
    const foreignToken = (await t.kg.gql(CreateAccessToken, { input: { name: `theirs-${other.slug}`, projectId: other.id } })).data!.createAccessToken;
    const mineToken = (await t.kg.gql(CreateAccessToken, { input: { name: `mine-${mine.slug}`, projectId: mine.id } })).data!.createAccessToken.token;

    const unknown = ['Project', 'ApiKey', 'Deployment', 'AccessToken'].map((type) => b64(`${type}:${randomUUID()}`));
    const decodable = [b64('ApiKey:not-a-uuid'), b64('Foo:123'), b64(`Viewer:${randomUUID()}`), b64('ApiKey:1:2')];
    const foreign = [other.id, foreignKey.apiKey.id, foreignDeployment.id, foreignToken.id];

    const logged = t.kg.logs.length;
    for (const id of [...unknown, ...decodable]) {
      const r = await t.kg.gql(Node, { id });
      expect({ id, status: r.status, errors: r.errors, node: r.data?.node }).toEqual({ id, status: 200, errors: undefined, node: null });
    }
    for (const id of foreign) {
      const r = await t.kg.gql(Node, { id }, mineToken);
      expect({ id, status: r.status, errors: r.errors, node: r.data?.node }).toEqual({ id, status: 200, errors: undefined, node: null });
      expect((await t.kg.gql(Node, { id })).data?.node).not.toBeNull(); // it exists: the admin sees it
    }
    const errorLogs = t.kg.logs.slice(logged).filter((line) => /"level":(50|60)/.test(line));
    expect(errorLogs).toEqual([]);
  });

  it('answers BAD_USER_INPUT (field id) only for an id that is not a global id at all', async () => {
    for (const id of ['', 'not base64 at all!', b64('no-colon-here'), b64(':only-an-id'), b64('1Type:x')]) {
      const r = await t.kg.gql(Node, { id });
      expect([id, errorCode(r), errorField(r)]).toEqual([id, 'BAD_USER_INPUT', 'id']);
    }
  });
});
