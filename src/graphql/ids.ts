// Global ids ("Type:uuid", base64) at the API boundary; malformed ones are BAD_USER_INPUT.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { badInput } from '../domain/errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type NodeType = 'Project' | 'ApiKey' | 'Deployment' | 'AccessToken';

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
