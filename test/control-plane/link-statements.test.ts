// What a link, an unlink or a key's creation costs in SQL (issue 5, propagation; issue 18, fleet), and that the statements saved keep
// the change-feed guarantees: every event carries the complete linked set, a no-op takes no
// revision.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { useKeygate } from '../helpers/keygate.ts';
import { CreateApiKey, LinkApiKey, UnlinkApiKey } from '../helpers/operations.ts';

const t = useKeygate();

interface Counted {
  /** statements of the mutation's transaction, COMMIT included (Prisma does not report BEGIN) */
  transaction: number;
  /** every statement between the request and the answer */
  total: number;
  revision: number;
}

/**
 * Runs a mutation a few times and keeps the fewest statements seen: the in-process proxy and the
 * background jobs share the statement log, and can only add to a count.
 */
async function countStatements(run: () => Promise<number>, times = 3): Promise<Counted> {
  let best: Counted | null = null;
  for (let i = 0; i < times; i++) {
    t.kg.queries.length = 0;
    const revision = await run();
    const queries = [...t.kg.queries];
    const commit = queries.findIndex((q) => /^COMMIT/i.test(q));
    const counted = { transaction: commit + 1, total: queries.length, revision };
    if (!best || counted.total < best.total) best = counted;
  }
  return best!;
}

async function linkedSetsByRevision(deploymentId: string): Promise<Map<number, string[]>> {
  const client = new pg.Client({ connectionString: t.db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ revision: number; payload: { deployment?: { id: string; apiKeyIds: string[] } } }>(
      `SELECT revision, payload FROM change_events WHERE payload->>'deploymentId' = $1 ORDER BY revision`,
      [Buffer.from(deploymentId, 'base64').toString().split(':')[1]],
    );
    return new Map(rows.map((r) => [r.revision, r.payload.deployment?.apiKeyIds ?? []]));
  } finally {
    await client.end();
  }
}

async function changeEvents(revision: number): Promise<{ type: string; actor: string | null }[]> {
  const client = new pg.Client({ connectionString: t.db.url });
  await client.connect();
  try {
    return (await client.query('SELECT type, actor FROM change_events WHERE revision = $1', [revision])).rows;
  } finally {
    await client.end();
  }
}

describe('link and unlink in SQL statements', () => {
  it('a link or unlink runs 3 statements in its transaction; a no-op takes no revision', async () => {
    const project = await createProject(t.kg);
    const key = await createKey(t.kg, project.id, 'counted-key');
    const d = await createDeployment(t.kg, project.id, 'counted', { authEnabled: true });
    const input = { deploymentId: d.id, apiKeyId: key.apiKey.id };
    const link = async () => {
      const r = await t.kg.gql(LinkApiKey, { input });
      expect(r.errors).toBeUndefined();
      return r.data!.linkApiKey.propagation.revision;
    };
    const unlink = async () => {
      const r = await t.kg.gql(UnlinkApiKey, { input });
      expect(r.errors).toBeUndefined();
      return r.data!.unlinkApiKey.propagation.revision;
    };

    // Lock the deployment (with the key's row); write the link and record the change with the
    // deployment's state in one statement; COMMIT. The payload's fields (deployment.apiKeys,
    // apiKey.deployments) are read afterwards by the GraphQL layer: 4 statements today.
    const linked = await countStatements(async () => {
      await unlink();
      t.kg.queries.length = 0;
      return link();
    });
    const unlinked = await countStatements(async () => {
      await link();
      t.kg.queries.length = 0;
      return unlink();
    });
    // A no-op: lock, the write that changes nothing (and so records nothing), COMMIT; then the
    // head revision it reports.
    await link();
    const head = await unlink();
    const noop = await countStatements(unlink);
    console.log(`link: ${linked.transaction} statements in the transaction, ${linked.total} in all; unlink ${unlinked.transaction}/${unlinked.total}; no-op ${noop.transaction}/${noop.total}`);
    expect(linked.transaction).toBe(3);
    expect(unlinked.transaction).toBe(3);
    expect(linked.total).toBeLessThanOrEqual(9);
    expect(unlinked.total).toBeLessThanOrEqual(9);
    expect(noop.transaction).toBe(3);
    expect(noop.revision).toBe(head);
  });

  it('createApiKey writes the key and records its event in one statement, without a transaction', async () => {
    const project = await createProject(t.kg);
    let n = 0;
    const created = await countStatements(async () => {
      t.kg.queries.length = 0;
      const r = await t.kg.gql(CreateApiKey, { input: { projectId: project.id, name: `one-statement-${n++}` } });
      expect(r.errors).toBeUndefined();
      return r.data!.createApiKey.propagation.revision;
    });
    console.log(`createApiKey: ${created.total} statements in all`);
    expect(t.kg.queries.some((q) => /^COMMIT/i.test(q))).toBe(false);
    expect(t.kg.queries.filter((q) => /INSERT INTO/i.test(q))).toHaveLength(1);
    // The key, the project (apiKey.project) and the deployments (apiKey.deployments) read for the answer.
    expect(created.total).toBeLessThanOrEqual(4);
    const events = await changeEvents(created.revision);
    expect(events).toMatchObject([{ type: 'API_KEY_CREATED', actor: 'admin' }]);
  });

  it('every concurrent link event carries the linked set of all the links before it', async () => {
    const project = await createProject(t.kg);
    const keys = await Promise.all(Array.from({ length: 8 }, (_, i) => createKey(t.kg, project.id, `set-${i}`)));
    const d = await createDeployment(t.kg, project.id, 'sets', { authEnabled: true });
    const results = await Promise.all(keys.map((k) => t.kg.gql(LinkApiKey, { input: { deploymentId: d.id, apiKeyId: k.apiKey.id } })));
    expect(results.map((r) => r.errors)).toEqual(results.map(() => undefined));

    // Revision order is commit order, and each event's set is the previous one plus its key.
    const sets = [...(await linkedSetsByRevision(d.id)).values()].slice(1); // after DEPLOYMENT_CREATED
    expect(sets).toHaveLength(8);
    sets.forEach((set, i) => {
      expect(set).toHaveLength(i + 1);
      if (i > 0) expect(set).toEqual(expect.arrayContaining(sets[i - 1]!));
      expect([...set].sort()).toEqual(set);
    });
  });
});
