// ApiKey.deployments for every key of one execution in one statement.
//
// Through the Prisma plugin, a page of 1,000 keys cost two more statements: the links by an IN list
// of 1,000 key ids (which Postgres answers by scanning the whole link table) and then the
// deployments, both joined to their parents row by row in Prisma's engine — most of the page's
// time. Here the keys resolved in the same execution are collected until the executor has called
// every resolver it can (one `setImmediate`), and their deployments read in one statement that
// follows the link table's primary key from each key and returns each deployment once, with its
// keys (a row per link cost 2,000 whole rows for a 1,000-key page over a few deployments).
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

/**
 * Reads at most one link more than the request's budget allows (operation-limits.ts): enough to
 * know the request must be cut, never the whole link table.
 */
async function load(ctx: GraphQLContext, keyIds: string[]): Promise<Map<string, Deployment[]>> {
  ctx.budget.check();
  const limit = ctx.budget.remaining + 1;
  const rows = await linkedDeploymentRows(sqlOfPrisma(ctx.prisma), keyIds, limit);
  // Each link in its place among all of them (places run 1…links), then handed to its key in that
  // order. One object per deployment, however many keys it is linked to: what the Prisma plugin
  // loads for a deployment below (its apiKeys, project) is loaded once per object, so 100 keys
  // linked to the same 17 deployments cost 17 loads, not 1,700.
  const inPlace: { keyId: string; deployment: Deployment }[] = [];
  for (const { keyIds: linkedKeys, places: placesText, ...deployment } of rows) {
    const keys = linkedKeys.split(',');
    const places = placesText.split(',');
    for (let i = 0; i < places.length; i++) inPlace[Number(places[i]) - 1] = { keyId: keys[i]!, deployment };
  }
  if (inPlace.length >= limit) ctx.budget.charge(inPlace.length);
  const byKey = new Map<string, Deployment[]>();
  for (const { keyId, deployment } of inPlace) {
    let list = byKey.get(keyId);
    if (!list) byKey.set(keyId, (list = []));
    list.push(deployment);
  }
  return byKey;
}
