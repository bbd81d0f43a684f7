// ApiKey.deployments for every key of one execution in one statement.
//
// Through the Prisma plugin, a page of 1,000 keys cost two more statements: the links by an IN list
// of 1,000 key ids (which Postgres answers by scanning the whole link table) and then the
// deployments, both joined to their parents row by row in Prisma's engine — most of the page's
// time. Here the keys resolved in the same execution are collected until the executor has called
// every resolver it can (one `setImmediate`), and their deployments read in one statement that
// follows the link table's primary key from each key.
//
// The rows are whole Deployment rows (no secret lives in that table), so every scalar field of
// Deployment resolves from them; a relation below (project, apiKeys, endpointUrl) is loaded by the
// Prisma plugin as for any Deployment it did not load itself.
import { sqlOfPrisma } from '../db/sql.ts';
import { linkedDeploymentRows } from '../db/statements/index.ts';
import type { Deployment } from '../generated/prisma/client.ts';
import type { GraphQLContext } from './context.ts';

interface Batch {
  keyIds: Set<string>;
  /** key id → its deployments, in the order they were linked */
  loaded: Promise<Map<string, Deployment[]>>;
}

/** The batch being collected, per execution (its context); gone with the context. */
const collecting = new WeakMap<GraphQLContext, Batch>();

/** The deployments linked to a key, in the order they were linked. */
export async function linkedDeployments(ctx: GraphQLContext, keyId: string): Promise<Deployment[]> {
  let batch = collecting.get(ctx);
  if (!batch) {
    const keyIds = new Set<string>();
    const loaded = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      collecting.delete(ctx);
      return load(ctx, [...keyIds]);
    });
    batch = { keyIds, loaded };
    collecting.set(ctx, batch);
  }
  batch.keyIds.add(keyId);
  return (await batch.loaded).get(keyId) ?? [];
}

async function load(ctx: GraphQLContext, keyIds: string[]): Promise<Map<string, Deployment[]>> {
  const rows = await linkedDeploymentRows(sqlOfPrisma(ctx.prisma), keyIds);
  const byKey = new Map<string, Deployment[]>();
  for (const { apiKeyId, ...deployment } of rows) {
    let list = byKey.get(apiKeyId);
    if (!list) byKey.set(apiKeyId, (list = []));
    list.push(deployment);
  }
  return byKey;
}
