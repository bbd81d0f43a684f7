// Many API keys at once, written with SQL COPY (not through the API): for the tests and
// benchmarks that need a big project. Names are `${prefix}${i}` for i = 1..count, created 1 ms
// apart in that order; the secrets are random and never known (nobody calls with these keys).
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export async function seedKeys(databaseUrl: string, projectSlug: string, count: number, namePrefix = 'svc-'): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>('SELECT id FROM projects WHERE slug = $1', [projectSlug]);
    const projectId = rows[0]!.id;
    const start = Date.now() - count - 60_000;
    function* lines() {
      for (let i = 1; i <= count; i++) {
        const prefix = `kg_${randomBytes(6).toString('base64url').slice(0, 8)}`;
        yield `${randomUUID()},${projectId},${namePrefix}${i},${prefix},${randomBytes(32).toString('hex')},${new Date(start + i).toISOString()}\n`;
      }
    }
    const copy = client.query(copyFrom('COPY api_keys (id, project_id, name, prefix, hash, created_at) FROM STDIN (FORMAT csv)'));
    await pipeline(Readable.from(lines()), copy);
    await client.query('ANALYZE api_keys');
  } finally {
    await client.end();
  }
}
