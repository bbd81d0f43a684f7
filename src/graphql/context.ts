import type { PrismaClient } from '../db/database.ts';
import type { Viewer } from '../domain/access.ts';
import type { DomainDeps } from '../domain/deps.ts';
import type { Confirmations } from '../feed/propagation.ts';
import type { ProjectEvents } from './project-events.ts';

/** What every resolver receives: who is asking, and the services to ask. */
export interface GraphQLContext {
  viewer: Viewer;
  prisma: PrismaClient;
  domain: DomainDeps;
  events: ProjectEvents;
  /** the confirmations this operation's answer waits for (mutations hand theirs over) */
  confirmations: Confirmations;
  /** the URL clients call for a deployment */
  endpointUrl(projectSlug: string, deploymentName: string): string;
}
