// The proxy's snapshot as three streams of small rows, each read through a cursor a page at a time
// (inside the caller's consistent read), so a million keys are never a million rows in memory at
// once: keys with only the columns the proxy enforces (times as epoch milliseconds, no Date), the
// deployments without their linked sets, and the links as text, a range of pages at a time.
import type { Sql } from '../sql.ts';

/** A key's row as the proxy's table takes it. */
export interface KeySnapshotRow {
  id: string;
  /** the key's project as its place in the snapshot's project list (snapshotProjectIds): a
   *  number per row, not the same 36 characters a thousand times */
  project: number;
  name: string;
  hash: string;
  /** epoch ms; null: never expires */
  expiresAtMs: number | null;
  previousHash: string | null;
  previousExpiresAtMs: number | null;
  rateLimitRequests: number | null;
  rateLimitTokens: number | null;
}

/** A deployment's row without its linked set (that comes as LinkRows). */
export interface DeploymentSnapshotRow {
  id: string;
  projectId: string;
  projectSlug: string;
  name: string;
  upstreamUrl: string;
  authEnabled: boolean;
}

// Whole milliseconds, as a JavaScript Date holds the time (and as toISOString writes it).
const epochMs = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;

const PROJECTS = 'SELECT id::text AS id FROM projects ORDER BY id';
const KEYS = `SELECT k.id::text AS id, p.n AS project, k.name, k.hash, ${epochMs('k.expires_at')} AS "expiresAtMs",
                     k.previous_hash AS "previousHash", ${epochMs('k.previous_expires_at')} AS "previousExpiresAtMs",
                     k.rate_limit_requests AS "rateLimitRequests", k.rate_limit_tokens AS "rateLimitTokens"
                FROM api_keys k
                JOIN (SELECT id, (row_number() OVER (ORDER BY id))::int - 1 AS n FROM projects) p ON p.id = k.project_id`;
const DEPLOYMENTS = `SELECT d.id::text AS id, d.project_id::text AS "projectId", p.slug AS "projectSlug", d.name,
                            d.upstream_url AS "upstreamUrl", d.auth_enabled AS "authEnabled"
                       FROM deployments d JOIN projects p ON p.id = d.project_id`;

/** Rows a cursor fetches at a time: small enough to die young, large enough to make few round trips. */
export const SNAPSHOT_PAGE_ROWS = 5_000;

/**
 * Runs `select` as a cursor and hands its rows to `page` a page at a time. Call it inside a
 * transaction (a consistent read): the cursor lives until the transaction ends. The next page is
 * asked for before this one is handed over, so the database reads while the caller builds.
 */
async function eachPage<T>(q: Sql, cursor: string, select: string, page: (rows: T[]) => void, pageRows = SNAPSHOT_PAGE_ROWS): Promise<void> {
  await q.execute(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select}`);
  const fetch = () => q.query<T>(`FETCH FORWARD ${pageRows} FROM ${cursor}`);
  let next = fetch();
  for (;;) {
    const rows = await next;
    const more = rows.length === pageRows;
    if (more) next = fetch();
    try {
      if (rows.length > 0) page(rows);
    } catch (error) {
      if (more) next.catch(() => {}); // the transaction ends with the error; so does that fetch
      throw error;
    }
    if (!more) break;
  }
  await q.execute(`CLOSE ${cursor}`);
}

/** Every project id, in the order KeySnapshotRow.project counts them. */
export async function snapshotProjectIds(q: Sql): Promise<string[]> {
  return (await q.query<{ id: string }>(PROJECTS)).map((row) => row.id);
}

export const eachKeyPage = (q: Sql, page: (rows: KeySnapshotRow[]) => void, pageRows?: number) => eachPage(q, 'keygate_snapshot_keys', KEYS, page, pageRows);
export const eachDeploymentPage = (q: Sql, page: (rows: DeploymentSnapshotRow[]) => void, pageRows?: number) =>
  eachPage(q, 'keygate_snapshot_deployments', DEPLOYMENTS, page, pageRows);

/** Heap pages of api_key_links a link text covers: about 10,000 links, 700 KB of text. */
const LINK_PAGES = 80;

/**
 * The links as text, a range of the table's pages at a time: each link is its deployment's id then
 * its key's (uuid text, 36 characters each), one after another, so the reader makes no row object
 * and no string per link (at 2,000,000 links those were most of a snapshot's garbage). Call it
 * inside a consistent read: every link visible to it lies on a page below the table's size read
 * there. A page range is a TID range scan; the next range is asked for before this one is handed over.
 */
export async function eachLinkText(q: Sql, text: (links: string) => void, pagesPerRead = LINK_PAGES): Promise<void> {
  const [size] = await q.query<{ pages: number }>(`SELECT (pg_relation_size('api_key_links') / current_setting('block_size')::int)::int AS pages`);
  const pages = size?.pages ?? 0;
  const read = (from: number) =>
    q.query<{ links: string | null }>(
      `SELECT string_agg(deployment_id::text || api_key_id::text, '') AS links FROM api_key_links WHERE ctid >= $1::tid AND ctid < $2::tid`,
      [`(${from},0)`, `(${from + pagesPerRead},0)`],
    );
  let next = pages > 0 ? read(0) : null;
  for (let from = 0; next !== null; from += pagesPerRead) {
    const [row] = await next;
    next = from + pagesPerRead < pages ? read(from + pagesPerRead) : null;
    try {
      if (row?.links) text(row.links);
    } catch (error) {
      next?.catch(() => {}); // the transaction ends with the error; so does that read
      throw error;
    }
  }
}
