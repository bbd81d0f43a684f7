// Rows shaped as Prisma returns them, for the few statements written in raw SQL because no single
// Prisma call can do their work in one round trip (lock a row and read it, with a row of another
// table). The column lists are typed by Prisma's models: a field added to the schema fails the
// build here until it is listed.
import type { ApiKey, Deployment } from '../generated/prisma/client.ts';

/** field → the column's SQL (uuids as text, as Prisma returns them) */
export type Columns<T> = { readonly [K in keyof T]-?: string };

export const DEPLOYMENT_COLUMNS: Columns<Deployment> = {
  id: 'id::text',
  projectId: 'project_id::text',
  name: 'name',
  model: 'model',
  upstreamUrl: 'upstream_url',
  authEnabled: 'auth_enabled',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
};

export const API_KEY_COLUMNS: Columns<ApiKey> = {
  id: 'id::text',
  projectId: 'project_id::text',
  name: 'name',
  description: 'description',
  prefix: 'prefix',
  hash: 'hash',
  expiresAt: 'expires_at',
  expiryAnnounced: 'expiry_announced',
  expiringAnnounced: 'expiring_announced',
  previousHash: 'previous_hash',
  previousPrefix: 'previous_prefix',
  previousExpiresAt: 'previous_expires_at',
  createdAt: 'created_at',
  lastUsedAt: 'last_used_at',
  rateLimitRequests: 'rate_limit_requests',
  rateLimitTokens: 'rate_limit_tokens',
};

/** The select list of `columns` of the table aliased `table`, each named `<prefix><field>`. */
export function selectList<T>(columns: Columns<T>, table: string, prefix = ''): string {
  return Object.entries(columns)
    .map(([field, column]) => `${table}.${String(column)} AS "${prefix}${field}"`)
    .join(', ');
}

/** The fields a selectList with `prefix` named; null when an outer join found no row. */
export function pickRow<T extends { id: string }>(row: Record<string, unknown>, columns: Columns<T>, prefix = ''): T | null {
  if (row[`${prefix}id`] == null) return null;
  return Object.fromEntries(Object.keys(columns).map((field) => [field, row[`${prefix}${field}`]])) as T;
}
