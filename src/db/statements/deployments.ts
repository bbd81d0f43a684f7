// Deployments' statements: their states as the proxy enforces them, the row lock of a change,
// and the deployments linked to a page of keys.
import { API_KEY_COLUMNS, DEPLOYMENT_COLUMNS, pickRow, selectList } from '../rows.ts';
import type { Sql } from '../sql.ts';
import type { DeploymentSnapshotRow } from './snapshot.ts';
import type { ApiKey, Deployment } from '../../generated/prisma/client.ts';

/** A deployment as the proxy needs it, with its full linked set: the feed's DeploymentState (src/feed/events.ts). */
export interface DeploymentStateRow extends DeploymentSnapshotRow {
  apiKeyIds: string[];
}

/**
 * Deployments as DeploymentStateRow, each with its full linked set read from `links` (a relation
 * with the columns of api_key_links: a statement that writes a link passes the set as it will be
 * once the write is seen); a WHERE clause goes between the two parts.
 */
export const deploymentStatesFrom = (links: string) => `
  SELECT d.id::text AS id, d.project_id::text AS "projectId", p.slug AS "projectSlug", d.name,
         d.upstream_url AS "upstreamUrl", d.auth_enabled AS "authEnabled",
         COALESCE(array_agg(l.api_key_id::text ORDER BY l.api_key_id) FILTER (WHERE l.api_key_id IS NOT NULL), '{}') AS "apiKeyIds"
    FROM deployments d
    JOIN projects p ON p.id = d.project_id
    LEFT JOIN ${links} l ON l.deployment_id = d.id`;
export const DEPLOYMENT_STATES = deploymentStatesFrom('api_key_links');
export const GROUP_STATES = 'GROUP BY d.id, p.slug';

/** Deployments' states, all or one; one statement. */
export function deploymentStates(sql: Sql, id?: string): Promise<DeploymentStateRow[]> {
  return id
    ? sql.query<DeploymentStateRow>(`${DEPLOYMENT_STATES} WHERE d.id = $1::uuid ${GROUP_STATES}`, [id])
    : sql.query<DeploymentStateRow>(`${DEPLOYMENT_STATES} ${GROUP_STATES}`);
}

const KEY_PREFIX = 'key.';

/**
 * Locks a deployment (FOR UPDATE, until the transaction ends) and returns its row; null when
 * there is none. With `apiKeyId`, the key's row comes along, unlocked (null: no such key), as of
 * the statement's start.
 */
export async function lockDeploymentRow(
  sql: Sql,
  id: string,
  apiKeyId?: string,
): Promise<{ deployment: Deployment; apiKey: ApiKey | null } | null> {
  const withKey = apiKeyId !== undefined;
  const [row] = await sql.query(
    `SELECT ${selectList(DEPLOYMENT_COLUMNS, 'd')}${withKey ? `, ${selectList(API_KEY_COLUMNS, 'k', KEY_PREFIX)}` : ''}
       FROM deployments d ${withKey ? 'LEFT JOIN api_keys k ON k.id = $2::uuid' : ''}
      WHERE d.id = $1::uuid
      FOR UPDATE OF d`,
    withKey ? [id, apiKeyId] : [id],
  );
  const deployment = row && pickRow(row, DEPLOYMENT_COLUMNS);
  if (!deployment) return null;
  return { deployment, apiKey: withKey ? pickRow(row, API_KEY_COLUMNS, KEY_PREFIX) : null };
}

/** A deployment linked to some of the keys asked about, and where each of those links stands. */
export interface LinkedDeploymentRow extends Deployment {
  /** the keys linked to it, comma-separated */
  keyIds: string;
  /** each of those links' place (1, 2, …) among all the links read, in the order they were made, comma-separated */
  places: string;
}

/**
 * The deployments linked to `keyIds`, each deployment once, with the keys it is linked to: the
 * first `limit` links in the order they were made. One row a deployment, not one a link: a page
 * of 1,000 keys linked to the same few deployments reads those few whole rows, not 2,000 copies.
 * The lists are comma-separated text (uuids and numbers hold no comma): splitting a string costs
 * the driver far less than parsing an array. The deployments are looked up by their primary key
 * (`= ANY`): the planner cannot know how few they are and would otherwise scan the whole table.
 */
export function linkedDeploymentRows(sql: Sql, keyIds: string[], limit: number): Promise<LinkedDeploymentRow[]> {
  return sql.query(
    `WITH links AS (
       SELECT l.api_key_id, l.deployment_id, row_number() OVER (ORDER BY l.created_at, l.deployment_id) AS place
         FROM unnest($1::uuid[]) AS k(id)
         JOIN api_key_links l ON l.api_key_id = k.id
        ORDER BY l.created_at, l.deployment_id
        LIMIT $2
     ), grouped AS (
       SELECT deployment_id, string_agg(api_key_id::text, ',' ORDER BY place) AS key_ids, string_agg(place::text, ',' ORDER BY place) AS places
         FROM links GROUP BY deployment_id
     )
     SELECT ${selectList(DEPLOYMENT_COLUMNS, 'd')}, g.key_ids AS "keyIds", g.places AS "places"
       FROM grouped g JOIN deployments d ON d.id = g.deployment_id
      WHERE d.id = ANY(ARRAY(SELECT deployment_id FROM grouped))`,
    [keyIds, limit],
  );
}
