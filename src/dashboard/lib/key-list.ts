// A project's keys as a list reads them: searched and ordered on the server, one page at a time
// (more as the user scrolls), with the total of the matches. When the project changes (`version`
// moves: a change here, elsewhere or by expiry), the pages already shown are read again, so new
// keys appear and deleted ones go without losing the user's place (paged-connection.ts reads the pages).
import { useCallback } from 'preact/hooks';
import type { ApiKeyOrder } from '../generated/graphql.ts';
import { request } from './graphql.ts';
import { KeyPageQuery } from './operations.ts';
import { type Paging, usePagedConnection } from './paged-connection.ts';
import type { ApiKeyRow } from './project-data.ts';

export const PAGE_SIZE = 50;
const PAGING: Paging<ApiKeyRow> = { keyOf: (key) => key.id, pageSize: PAGE_SIZE, maxPage: 1000 };

export interface KeyList {
  rows: ApiKeyRow[];
  /** how many keys match, of which `rows` are the first */
  total: number | null;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  loadMore: () => void;
}

export function useKeyList(slug: string, search: string, orderBy: ApiKeyOrder, version: number): KeyList {
  // The first page's request has no `after` (undefined is left out of the JSON).
  const readPage = useCallback(
    (first: number, after?: string) => request(KeyPageQuery, { slug, first, after, search: search || null, orderBy }).then((data) => data.project?.apiKeys),
    [slug, search, orderBy],
  );
  const { nodes, ...list } = usePagedConnection(readPage, PAGING, version);
  return { rows: nodes, ...list };
}
