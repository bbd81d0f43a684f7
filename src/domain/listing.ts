// How a project's keys and deployments are searched and ordered (API.md "Search and order for big
// projects"), and the keyset condition that continues a page after a cursor's row in that order.
// Each order ends with the id, so it is total and a cursor names one place in it; nullable columns
// put their nulls last. The cursor is the row's id: its sort values are read back, so a page
// continues exactly where the previous one ended even when rows were added in between.
import { badInput } from './errors.ts';

export const API_KEY_ORDERS = ['CREATED_AT_ASC', 'CREATED_AT_DESC', 'NAME_ASC', 'LAST_USED_AT_DESC', 'EXPIRES_AT_ASC'] as const;
export type ApiKeyOrder = (typeof API_KEY_ORDERS)[number];

type Dir = 'asc' | 'desc';
interface OrderSpec {
  field: 'createdAt' | 'name' | 'lastUsedAt' | 'expiresAt';
  dir: Dir;
  nullable: boolean;
  /** the tie-breaker's direction */
  idDir: Dir;
}

const ORDERS: Record<ApiKeyOrder, OrderSpec> = {
  CREATED_AT_ASC: { field: 'createdAt', dir: 'asc', nullable: false, idDir: 'asc' },
  // the exact reverse of the default order
  CREATED_AT_DESC: { field: 'createdAt', dir: 'desc', nullable: false, idDir: 'desc' },
  NAME_ASC: { field: 'name', dir: 'asc', nullable: false, idDir: 'asc' },
  // the most recently used first; never used last
  LAST_USED_AT_DESC: { field: 'lastUsedAt', dir: 'desc', nullable: true, idDir: 'asc' },
  // the soonest to expire first; never expiring last
  EXPIRES_AT_ASC: { field: 'expiresAt', dir: 'asc', nullable: true, idDir: 'asc' },
};

export const SEARCH_MAX_LENGTH = 100;

/** LIKE's wildcards in user text match themselves (Postgres's default escape character is \). */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The search text as a filter value: trimmed, null when empty; too long is BAD_USER_INPUT. */
function searchText(search: string | null | undefined): string | null {
  const text = search?.trim() ?? '';
  if (text.length > SEARCH_MAX_LENGTH) throw badInput('search', `search must be at most ${SEARCH_MAX_LENGTH} characters`);
  return text === '' ? null : escapeLike(text);
}

const contains = (value: string) => ({ contains: value, mode: 'insensitive' as const });

/** A project's keys whose name or prefix contains `search`, case-insensitively. */
export function apiKeyFilter(projectId: string, search: string | null | undefined) {
  const text = searchText(search);
  return text === null ? { projectId } : { projectId, OR: [{ name: contains(text) }, { prefix: contains(text) }] };
}

/** A project's deployments whose name contains `search`, case-insensitively. */
export function deploymentFilter(projectId: string, search: string | null | undefined) {
  const text = searchText(search);
  return text === null ? { projectId } : { projectId, name: contains(text) };
}

/** Prisma's orderBy for an order: its column, then the id. */
export function apiKeyOrderBy(order: ApiKeyOrder) {
  const spec = ORDERS[order];
  const column = spec.nullable ? { [spec.field]: { sort: spec.dir, nulls: 'last' as const } } : { [spec.field]: spec.dir };
  return [column, { id: spec.idDir }];
}

/** The columns a cursor's row is read back with. */
export const orderColumns = (order: ApiKeyOrder) => ({ id: true as const, [ORDERS[order].field]: true as const });

/** The rows after `row` in `order` (row holds the order's column and the id). */
export function apiKeyAfter(order: ApiKeyOrder, row: Record<string, unknown>) {
  const { field, dir, nullable, idDir } = ORDERS[order];
  const value = row[field];
  const id = row.id as string;
  const idAfter = { id: idDir === 'asc' ? { gt: id } : { lt: id } };
  // Nulls come last: after a null only the later nulls remain.
  if (value === null || value === undefined) return { [field]: null, ...idAfter };
  return {
    OR: [{ [field]: dir === 'asc' ? { gt: value } : { lt: value } }, { [field]: value, ...idAfter }, ...(nullable ? [{ [field]: null }] : [])],
  };
}
