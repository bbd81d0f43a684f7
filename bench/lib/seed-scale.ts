// The scale benchmark's data, written with COPY FROM STDIN straight into a fresh database:
// P projects, each with K keys and D deployments, each key linked to two of its project's
// deployments. The keys used on requests (a sample spread over the whole table) carry real issued
// secrets (src/domain/secrets.ts); every other key's hash is the SHA-256 of a unique string, as
// unguessable and as long, without issuing a million secrets. Foreign-key triggers are skipped for
// the seeding session only (session_replication_role): the rows are consistent by construction.
import { hash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { issueSecret } from '../../src/domain/secrets.ts';

export interface Shape {
  projects: number;
  keysPerProject: number;
  deploymentsPerProject: number;
}

export interface Seeded {
  keys: number;
  deployments: number;
  links: number;
  /** usable (Host, key) pairs: the key is linked to the deployment */
  pairs: { host: string; secret: string }[];
  firstProjectSlug: string;
  /** a project's deployments with their linked key ids, for changes written into the log */
  sample: { projectId: string; projectSlug: string; deployments: { id: string; name: string; keyIds: string[] }[] };
}

const ROWS_PER_CHUNK = 2000;

/** Streams rows (tab-separated, already escaped) into `COPY table (columns) FROM STDIN`. */
async function copyRows(client: pg.Client, table: string, columns: string[], rows: () => Generator<string>): Promise<void> {
  function* chunks() {
    let batch: string[] = [];
    for (const row of rows()) {
      batch.push(row);
      if (batch.length === ROWS_PER_CHUNK) {
        yield `${batch.join('\n')}\n`;
        batch = [];
      }
    }
    if (batch.length) yield `${batch.join('\n')}\n`;
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
}

export async function seedScale(databaseUrl: string, shape: Shape, upstreamUrl: string, samplePairs: number): Promise<Seeded> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SET session_replication_role = 'replica'");
    const base = Date.now() - 86_400_000;
    const at = (n: number) => new Date(base + n).toISOString();
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    const projects = Array.from({ length: shape.projects }, (_, p) => ({ id: randomUUID(), slug: `scale-p${pad(p, 5)}` }));
    const deploymentIds = projects.map(() => Array.from({ length: shape.deploymentsPerProject }, () => randomUUID()));
    const totalKeys = shape.projects * shape.keysPerProject;
    const step = Math.max(1, Math.floor(totalKeys / samplePairs));
    const secrets = new Map<number, string>(); // key number → its issued secret (the sample only)
    const keyIds: string[] = new Array(totalKeys);
    const half = Math.ceil(shape.deploymentsPerProject / 2);
    const linked = (k: number) => {
      const first = k % shape.deploymentsPerProject;
      const second = (k + half) % shape.deploymentsPerProject;
      return second === first ? [first] : [first, second];
    };

    await copyRows(client, 'projects', ['id', 'slug', 'name', 'created_at'], function* () {
      for (const [p, project] of projects.entries()) yield `${project.id}\t${project.slug}\t${project.slug}\t${at(p)}`;
    });
    await copyRows(client, 'deployments', ['id', 'project_id', 'name', 'model', 'upstream_url', 'auth_enabled', 'created_at', 'updated_at'], function* () {
      for (const [p, project] of projects.entries()) {
        for (const [d, id] of deploymentIds[p]!.entries()) {
          const when = at(p * shape.deploymentsPerProject + d);
          yield `${id}\t${project.id}\tdep-${pad(d, 4)}\tllama-3-8b\t${upstreamUrl}\ttrue\t${when}\t${when}`;
        }
      }
    });
    await copyRows(client, 'api_keys', ['id', 'project_id', 'name', 'prefix', 'hash', 'created_at'], function* () {
      for (let n = 0; n < totalKeys; n++) {
        const p = Math.floor(n / shape.keysPerProject);
        const k = n % shape.keysPerProject;
        let keyHash: string;
        let prefix: string;
        if (n % step === 0 && secrets.size < samplePairs) {
          const issued = issueSecret('kg_');
          secrets.set(n, issued.secret);
          keyHash = issued.hash;
          prefix = issued.prefix;
        } else {
          keyHash = hash('sha256', `scale-key-${n}-${base}`, 'hex');
          prefix = `kg_${keyHash.slice(0, 8)}`;
        }
        const id = randomUUID();
        keyIds[n] = id;
        yield `${id}\t${projects[p]!.id}\tkey-${pad(k, 5)}\t${prefix}\t${keyHash}\t${at(n)}`;
      }
    });
    await copyRows(client, 'api_key_links', ['api_key_id', 'deployment_id'], function* () {
      for (let n = 0; n < totalKeys; n++) {
        const p = Math.floor(n / shape.keysPerProject);
        for (const d of linked(n % shape.keysPerProject)) yield `${keyIds[n]}\t${deploymentIds[p]![d]}`;
      }
    });
    await client.query('ANALYZE');

    const pairs: Seeded['pairs'] = [...secrets].map(([n, secret]) => {
      const p = Math.floor(n / shape.keysPerProject);
      return { host: `model-dep-${pad(linked(n % shape.keysPerProject)[0]!, 4)}.${projects[p]!.slug}.localhost`, secret };
    });
    const sample: Seeded['sample'] = {
      projectId: projects[0]!.id,
      projectSlug: projects[0]!.slug,
      deployments: deploymentIds[0]!.map((id, d) => ({
        id,
        name: `dep-${pad(d, 4)}`,
        keyIds: keyIds.slice(0, shape.keysPerProject).filter((_, k) => linked(k).includes(d)),
      })),
    };
    const links = projects.length * Array.from({ length: shape.keysPerProject }, (_, k) => linked(k).length).reduce((a, b) => a + b, 0);
    return { keys: totalKeys, deployments: projects.length * shape.deploymentsPerProject, links, pairs, firstProjectSlug: projects[0]!.slug, sample };
  } finally {
    await client.end();
  }
}

/**
 * Writes `count` link/unlink changes of the sample project's deployments straight into the change
 * log (rows, feed_state's revision) and publishes each on the feed's channel, in batches, as the
 * control plane would after its commits; the links table is left alone. Each deployment's first
 * key is unlinked, then linked again, round after round: with `count` a multiple of twice the
 * deployments, the proxy's table ends as it started. Resolves with the last revision.
 */
export async function writeChanges(databaseUrl: string, redisUrl: string, redisPrefix: string, sample: Seeded['sample'], upstreamUrl: string, count: number, batch = 1000): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const head = (await client.query<{ revision: number }>('SELECT revision FROM feed_state WHERE id = 1')).rows[0]!.revision;
    const deployments = sample.deployments.filter((d) => d.keyIds.length > 0);
    let revision = head;
    for (let done = 0; done < count; done += batch) {
      const events = Array.from({ length: Math.min(batch, count - done) }, (_, j) => {
        const i = done + j;
        const d = deployments[i % deployments.length]!;
        const unlink = Math.floor(i / deployments.length) % 2 === 0;
        return {
          revision: ++revision,
          projectId: sample.projectId,
          type: unlink ? 'API_KEY_UNLINKED' : 'API_KEY_LINKED',
          actor: 'bench',
          at: new Date().toISOString(),
          payload: {
            apiKeyId: d.keyIds[0]!,
            deploymentId: d.id,
            deployment: { id: d.id, projectId: sample.projectId, projectSlug: sample.projectSlug, name: d.name, upstreamUrl, authEnabled: true, apiKeyIds: unlink ? d.keyIds.slice(1) : d.keyIds },
          },
        };
      });
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO change_events (revision, project_id, type, actor, at, payload)
         SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[])`,
        [events.map((e) => e.revision), events.map((e) => e.projectId), events.map((e) => e.type), events.map((e) => e.actor), events.map((e) => e.at), events.map((e) => JSON.stringify(e.payload))],
      );
      await client.query('UPDATE feed_state SET revision = $1 WHERE id = 1', [revision]);
      await client.query('COMMIT');
      const publishing = redis.pipeline();
      for (const e of events) publishing.publish(`${redisPrefix}changes`, JSON.stringify(e));
      await publishing.exec();
    }
    return revision;
  } finally {
    redis.disconnect();
    await client.end();
  }
}
