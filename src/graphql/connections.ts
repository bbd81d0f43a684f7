// The connection rules of API.md: ordered by (createdAt, id), `first` 1–1000 (default 50),
// `after` a cursor this API issued. Violations are BAD_USER_INPUT naming the argument.
import { parsePrismaCursor } from '@pothos/plugin-prisma';
import { badInput } from '../domain/errors.ts';
import { builder, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './builder.ts';

export const CONNECTION_ORDER = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkConnectionArgs(args: { first?: number | null; after?: string | null }) {
  if (args.first != null && (args.first < 1 || args.first > MAX_PAGE_SIZE)) {
    throw badInput('first', `first must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  if (args.after != null) {
    let id: unknown;
    try {
      id = parsePrismaCursor(args.after);
    } catch {
      id = null;
    }
    if (typeof id !== 'string' || !UUID.test(id)) throw badInput('after', 'after is not a cursor of this connection');
  }
}

/**
 * A connection's cost (complexity.ts): its selection counts once per item of the page. A size
 * outside 1–1000 counts as the largest page, so the resolver, not the cost limit, refuses it with
 * BAD_USER_INPUT unless the rest of the query is too costly anyway.
 */
export function pageComplexity(args: { first?: number | null; last?: number | null }) {
  return { field: 1, multiplier: Math.min(args.first ?? args.last ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) };
}

type ConnectionNodeRef = Parameters<typeof builder.connectionObject>[0]['type'];

/**
 * The connection type of a node type, named as API.md names it (`ProjectConnection`, edges
 * `ProjectEdge`) and shared by every field that returns it: clients generate code from these
 * names, so they must not follow the field. totalCount is what the field's `totalCount` option
 * put on the connection: the count, or a function that reads it.
 */
export function nodeConnection<Type extends ConnectionNodeRef>(type: Type, name: string) {
  return builder.connectionObject({
    type,
    name,
    fields: (t) => ({
      totalCount: t.int({
        resolve: (connection) => {
          const { totalCount } = connection as { totalCount?: number | (() => number | Promise<number>) };
          if (totalCount === undefined) throw new Error(`${name}: the field returning it has no totalCount option`);
          return typeof totalCount === 'function' ? totalCount() : totalCount;
        },
      }),
    }),
  });
}
