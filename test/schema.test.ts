import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../src/graphql/print-schema.ts';

it('schema.graphql is generated from the Pothos builder and up to date (npm run schema:generate)', async () => {
  expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
});

it("connection types carry API.md's names, one per node type, shared by every field that returns it", async () => {
  const { schema } = await import('../src/graphql/schema.ts');
  const { getNamedType, isObjectType } = await import('graphql');
  const objectType = (name: string) => {
    const type = schema.getType(name);
    if (!isObjectType(type)) throw new Error(`${name} is not an object type`);
    return type;
  };
  const returned: Record<string, string> = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const name = getNamedType(field.type).name;
      if (name.endsWith('Connection')) returned[`${type.name}.${field.name}`] = name;
    }
  }
  expect(returned).toMatchObject({
    'Query.projects': 'ProjectConnection',
    'Query.accessTokens': 'AccessTokenConnection',
    'Project.apiKeys': 'ApiKeyConnection',
    'Project.deployments': 'DeploymentConnection',
  });
  // Every connection, including ones added later, is named after its node type, edges too.
  for (const connection of new Set(Object.values(returned))) {
    const edge = objectType(getNamedType(objectType(connection).getFields().edges!.type).name);
    const node = getNamedType(edge.getFields().node!.type).name;
    expect({ connection, edge: edge.name }).toEqual({ connection: `${node}Connection`, edge: `${node}Edge` });
    expect(Object.keys(objectType(connection).getFields()).sort()).toEqual(['edges', 'pageInfo', 'totalCount']);
  }
  for (const old of ['QueryProjectsConnection', 'ProjectApiKeysConnection', 'ProjectDeploymentsConnection', 'QueryAccessTokensConnection']) {
    expect(schema.getType(old)).toBeUndefined();
  }
});
