import type { PrismaClient } from '../db/database.ts';
import type { Viewer } from '../domain/access.ts';
import type { DomainDeps } from '../domain/deps.ts';
import type { ProjectEvents } from './project-events.ts';
import type { UsageUpdates } from './usage-updates.ts';

/** What every resolver receives: who is asking, and the services to ask. */
export interface GraphQLContext {
  viewer: Viewer;
  prisma: PrismaClient;
  domain: DomainDeps;
  events: ProjectEvents;
  /** the live usage batches the proxies publish (usageUpdates) */
  usage: UsageUpdates;
  /** settles when every change this operation made is confirmed (confirm-before-answer.ts) */
  confirmed?: () => Promise<unknown>;
  /** the URL clients call for a deployment */
  endpointUrl(projectSlug: string, deploymentName: string): string;
}
