// Reads a GraphQL connection page by page, as the dashboard's long lists do (keys, activity): the
// first page when the query changes, the next on demand (a node already shown is not added twice),
// and, when the project changes (`version` moves), all that is shown read again from the start so
// the user keeps their place. An answer that arrives after a newer read has started is dropped.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, messageOf } from './graphql.ts';

/** A page as the GraphQL connection answers it; none: the project is gone or out of the token's reach. */
export type Page<N> = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor?: string | null }; edges: { node: N }[] } | null | undefined;

/** How a list pages; fixed for the list (a module constant). */
export interface Paging<N> {
  /** what tells nodes apart, so a page that overlaps the last adds no node twice */
  keyOf: (node: N) => string | number;
  pageSize: number;
  /** the most nodes read again at once */
  maxPage: number;
}

export interface PagedList<N> {
  nodes: N[];
  /** how many nodes match, of which `nodes` are the first */
  total: number | null;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  loadMore: () => void;
}

/** `readPage(first, after)` requests a page (no `after`: the first); a new function (search, order or filters changed) reads from the first page. */
export function usePagedConnection<N>(readPage: (first: number, after?: string) => Promise<Page<N>>, paging: Paging<N>, version: number): PagedList<N> {
  const [nodes, setNodes] = useState<N[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const shown = useRef(0);
  const fromStart = (count: number) => Math.min(Math.max(count, paging.pageSize), paging.maxPage);

  /** Reads `first` nodes: from the start, replacing what is shown, or after `after`, adding to it. */
  const read = useCallback(
    (first: number, after?: string) => {
      const mine = ++generation.current;
      setLoading(true);
      readPage(first, after).then(
        (page) => {
          if (mine !== generation.current) return;
          const fresh = page?.edges.map((e) => e.node) ?? [];
          setNodes((before) => {
            const known = new Set(after === undefined ? [] : before.map(paging.keyOf));
            const next = after === undefined ? fresh : [...before, ...fresh.filter((n) => !known.has(paging.keyOf(n)))];
            shown.current = next.length;
            return next;
          });
          setTotal(page?.totalCount ?? 0);
          setCursor(page?.pageInfo.endCursor ?? null);
          setHasMore(page?.pageInfo.hasNextPage ?? false);
          setError(null);
          setLoading(false);
        },
        (e: unknown) => {
          if (mine !== generation.current) return;
          // The last node shown was deleted meanwhile: its cursor is gone, so read the list again.
          if (after !== undefined && e instanceof ApiError && e.field === 'after') return read(fromStart(shown.current + paging.pageSize));
          setError(messageOf(e));
          setLoading(false);
        },
      );
    },
    [readPage, paging],
  );

  // A layout effect: the first page's request leaves as the list mounts (alongside the project's
  // state), not after the next paint.
  useLayoutEffect(() => read(fromStart(paging.pageSize)), [read]);
  const firstVersion = useRef(version);
  useEffect(() => {
    if (version !== firstVersion.current) read(fromStart(shown.current));
  }, [version]);
  const loadMore = useCallback(() => {
    if (!loading && hasMore && cursor) read(paging.pageSize, cursor);
  }, [loading, hasMore, cursor, read]);

  return { nodes, total, hasMore, loading, error, loadMore };
}
