// The proxy's snapshot as three streams of small rows, each read through a cursor a page at a time
// (inside the caller's consistent read), so a million keys are never a million rows in memory at
// once: keys with only the columns the proxy enforces (times as epoch milliseconds, no Date), the
// deployments without their linked sets, and the links as (deployment, key) pairs.
import type { Sql } from '../sql.ts';

/** A key's row as the proxy's table takes it. */
export interface KeySnapshotRow {
  id: string;
  projectId: string;
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

export interface LinkRow {
  deploymentId: string;
  apiKeyId: string;
}

// Whole milliseconds, as a JavaScript Date holds the time (and as toISOString writes it).
const epochMs = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8`;

const KEYS = `SELECT id::text AS id, project_id::text AS "projectId", name, hash, ${epochMs('expires_at')} AS "expiresAtMs",
                     previous_hash AS "previousHash", ${epochMs('previous_expires_at')} AS "previousExpiresAtMs",
                     rate_limit_requests AS "rateLimitRequests", rate_limit_tokens AS "rateLimitTokens"
                FROM api_keys`;
const DEPLOYMENTS = `SELECT d.id::text AS id, d.project_id::text AS "projectId", p.slug AS "projectSlug", d.name,
                            d.upstream_url AS "upstreamUrl", d.auth_enabled AS "authEnabled"
                       FROM deployments d JOIN projects p ON p.id = d.project_id`;
const LINKS = `SELECT deployment_id::text AS "deploymentId", api_key_id::text AS "apiKeyId" FROM api_key_links`;

/** Rows a cursor fetches at a time: small enough to die young, large enough to make few round trips. */
export const SNAPSHOT_PAGE_ROWS = 20_000;

/**
 * Runs `select` as a cursor and hands its rows to `page` a page at a time. Call it inside a
 * transaction (a consistent read): the cursor lives until the transaction ends.
 */
async function eachPage<T>(q: Sql, cursor: string, select: string, page: (rows: T[]) => void, pageRows = SNAPSHOT_PAGE_ROWS): Promise<void> {
  await q.execute(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select}`);
  for (;;) {
    const rows = await q.query<T>(`FETCH FORWARD ${pageRows} FROM ${cursor}`);
    if (rows.length > 0) page(rows);
    if (rows.length < pageRows) break;
  }
  await q.execute(`CLOSE ${cursor}`);
}

export const eachKeyPage = (q: Sql, page: (rows: KeySnapshotRow[]) => void, pageRows?: number) => eachPage(q, 'keygate_snapshot_keys', KEYS, page, pageRows);
export const eachDeploymentPage = (q: Sql, page: (rows: DeploymentSnapshotRow[]) => void, pageRows?: number) =>
  eachPage(q, 'keygate_snapshot_deployments', DEPLOYMENTS, page, pageRows);
export const eachLinkPage = (q: Sql, page: (rows: LinkRow[]) => void, pageRows?: number) => eachPage(q, 'keygate_snapshot_links', LINKS, page, pageRows);
