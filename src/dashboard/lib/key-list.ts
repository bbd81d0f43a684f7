// A project's keys as a list reads them: searched and ordered on the server, one page at a time
// (more as the user scrolls), with the total of the matches. When the project changes (`version`
// moves: a change here, elsewhere or by expiry), the pages already shown are read again, so new
// keys appear and deleted ones go without losing the user's place.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiKeyOrder } from '../generated/graphql.ts';
import { ApiError, messageOf, request } from './graphql.ts';
import { KeyPageQuery } from './operations.ts';
import type { ApiKeyRow } from './project-data.ts';

export const PAGE_SIZE = 50;
const MAX_PAGE = 1000;

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
  const [rows, setRows] = useState<ApiKeyRow[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const shown = useRef(0);

  /** Reads the first `count` matches, replacing what is shown. */
  const readFromStart = useCallback(
    (count: number) => {
      const mine = ++generation.current;
      setLoading(true);
      request(KeyPageQuery, { slug, first: Math.min(Math.max(count, PAGE_SIZE), MAX_PAGE), search: search || null, orderBy }).then(
        (data) => {
          if (mine !== generation.current) return;
          const page = data.project?.apiKeys;
          const nodes = page?.edges.map((e) => e.node) ?? [];
          shown.current = nodes.length;
          setRows(nodes);
          setTotal(page?.totalCount ?? 0);
          setCursor(page?.pageInfo.endCursor ?? null);
          setHasMore(page?.pageInfo.hasNextPage ?? false);
          setError(null);
          setLoading(false);
        },
        (e: unknown) => {
          if (mine !== generation.current) return;
          setError(messageOf(e));
          setLoading(false);
        },
      );
    },
    [slug, search, orderBy],
  );

  // A new search or order starts from the first page.
  useEffect(() => readFromStart(PAGE_SIZE), [readFromStart]);
  // The project changed: read again what is shown.
  const firstVersion = useRef(version);
  useEffect(() => {
    if (version !== firstVersion.current) readFromStart(shown.current);
  }, [version]);

  const loadMore = useCallback(() => {
    if (loading || !hasMore || !cursor) return;
    const mine = ++generation.current;
    setLoading(true);
    request(KeyPageQuery, { slug, first: PAGE_SIZE, after: cursor, search: search || null, orderBy }).then(
      (data) => {
        if (mine !== generation.current) return;
        const page = data.project?.apiKeys;
        const nodes = page?.edges.map((e) => e.node) ?? [];
        setRows((before) => {
          const known = new Set(before.map((k) => k.id));
          const next = [...before, ...nodes.filter((k) => !known.has(k.id))];
          shown.current = next.length;
          return next;
        });
        setTotal(page?.totalCount ?? null);
        setCursor(page?.pageInfo.endCursor ?? null);
        setHasMore(page?.pageInfo.hasNextPage ?? false);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== generation.current) return;
        // The last key shown was deleted meanwhile: its cursor is gone, so read the list again.
        if (e instanceof ApiError && e.field === 'after') return readFromStart(shown.current + PAGE_SIZE);
        setError(messageOf(e));
        setLoading(false);
      },
    );
  }, [loading, hasMore, cursor, slug, search, orderBy, readFromStart]);

  return { rows, total, hasMore, loading, error, loadMore };
}
