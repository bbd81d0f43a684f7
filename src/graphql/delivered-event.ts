// A change event as the ProjectEvent type resolves it: the event, and loaders of the key and the
// deployment it is about, each read once per selection shape (projectEvents shares them between
// subscribers; the audit trail reads one per event).
import type { PrismaClient } from '../db/database.ts';
import type { ChangeEvent } from '../feed/events.ts';
import type { DeliveredEvent, ModelQuery } from './context.ts';

const memoByQuery = (load: (query: ModelQuery | undefined) => Promise<unknown>) => {
  const cache = new Map<string, Promise<unknown>>();
  return (query?: ModelQuery) => {
    const key = query ? JSON.stringify(query) : '';
    let loaded = cache.get(key);
    if (!loaded) cache.set(key, (loaded = load(query)));
    return loaded;
  };
};

export function deliveredEvent(prisma: PrismaClient, event: ChangeEvent): DeliveredEvent {
  const { apiKeyId, deploymentId } = event.payload;
  return {
    event,
    apiKey: memoByQuery(async (query) => (apiKeyId ? prisma.apiKey.findUnique({ ...query, where: { id: apiKeyId } }) : null)),
    deployment: memoByQuery(async (query) => (deploymentId ? prisma.deployment.findUnique({ ...query, where: { id: deploymentId } }) : null)),
  };
}
