// Shared by the operation-limits tests: the project of issue 15's finding 1 and its query.
import type pg from 'pg';

/** The worst query of issue 15, finding 1, verbatim. */
export const WORST_QUERY = '{project(slug:"dos"){deployments(first:17){edges{node{apiKeys{deployments{apiKeys{name}}}}}}}}';

/** Creates project `slug` (unless it exists) with `keys` keys and `deployments` deployments, every key linked to every deployment. */
export async function seedAllLinked(client: pg.Client, slug: string, keys: number, deployments: number): Promise<void> {
  await client.query(`INSERT INTO projects (id, slug, name) VALUES (gen_random_uuid(), $1, $1) ON CONFLICT (slug) DO NOTHING`, [slug]);
  await client.query(
    `INSERT INTO api_keys (id, project_id, name, prefix, hash, created_at)
     SELECT gen_random_uuid(), p.id, 'key-' || i, 'kg_seed', 'seed-' || p.id || '-' || i, now() + i * interval '1 ms'
     FROM projects p, generate_series(1, $2::int) i WHERE p.slug = $1`,
    [slug, keys],
  );
  await client.query(
    `INSERT INTO deployments (id, project_id, name, model, upstream_url, created_at, updated_at)
     SELECT gen_random_uuid(), p.id, 'dep-' || i, 'm', 'http://127.0.0.1:9', now() + i * interval '1 ms', now()
     FROM projects p, generate_series(1, $2::int) i WHERE p.slug = $1`,
    [slug, deployments],
  );
  await client.query(
    `INSERT INTO api_key_links (api_key_id, deployment_id)
     SELECT k.id, d.id FROM projects p JOIN api_keys k ON k.project_id = p.id JOIN deployments d ON d.project_id = p.id WHERE p.slug = $1`,
    [slug],
  );
}
