// Global ids ("Type:uuid", base64) at the API boundary; malformed ones are BAD_USER_INPUT.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { type GraphQLSchema, isObjectType } from 'graphql';
import { badInput } from '../domain/errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type NodeType = 'Project' | 'ApiKey' | 'Deployment' | 'AccessToken';

const NODE_TYPES: ReadonlySet<string> = new Set<NodeType>(['Project', 'ApiKey', 'Deployment', 'AccessToken']);

/** What node(id:) looks up: null when the id decodes but can name no node (docs/api.md, "Ids and node(id:)"). */
export type NodeLookup = { typename: NodeType; id: string } | null;

/**
 * The id of node(id:): BAD_USER_INPUT only when it is not a global id at all; one that decodes
 * to another type or to something other than a uuid is a node nobody can reach (null).
 */
export function decodeNodeId(globalId: string): NodeLookup {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw badInput('id', 'id is not a valid id');
  }
  return NODE_TYPES.has(decoded.typename) && UUID.test(decoded.id) ? (decoded as { typename: NodeType; id: string }) : null;
}

/** Decodes a global id; with `typename`, it must be an id of that type. */
export function decodeId(typename: NodeType | null, globalId: string, field: string): { typename: string; id: string } {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(globalId);
  } catch {
    throw badInput(field, `${field} is not a valid id`);
  }
  if (!UUID.test(decoded.id) || (typename !== null && decoded.typename !== typename)) {
    throw badInput(field, typename ? `${field} is not a valid ${typename} id` : `${field} is not a valid id`);
  }
  return decoded;
}

export const idOf = (typename: NodeType, globalId: string, field: string) => decodeId(typename, globalId, field).id;

export const globalId = (typename: NodeType, id: string) => encodeGlobalID(typename, id);

/**
 * Resolves `id` of every node type in one synchronous step. The relay plugin's id resolver is
 * async, so each node on a page cost graphql-js a promise to settle (a 1,000-key page with two
 * deployments each: 3,000); every node type here is a Prisma node whose id is its `id` column,
 * which every way of loading it selects. The ids are the same strings.
 */
export function syncNodeIds(schema: GraphQLSchema): GraphQLSchema {
  for (const typename of NODE_TYPES) {
    const type = schema.getType(typename);
    const field = isObjectType(type) ? type.getFields().id : undefined;
    if (!field) throw new Error(`no id field on the node type ${typename}`);
    field.resolve = (parent: { id: string }) => encodeGlobalID(typename, String(parent.id));
  }
  return schema;
}
