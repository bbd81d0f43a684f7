import type { PrismaClient } from '../db/database.ts';
import type { Viewer } from '../domain/access.ts';
import type { DomainDeps } from '../domain/deps.ts';
import type { OperationBudget } from './operation-limits.ts';
import type { ProjectEvents } from './project-events.ts';

/** What every resolver receives: who is asking, and the services to ask. */
export interface GraphQLContext {
  viewer: Viewer;
  prisma: PrismaClient;
  domain: DomainDeps;
  events: ProjectEvents;
  /** settles when every change this operation made is confirmed (confirm-before-answer.ts) */
  confirmed?: () => Promise<unknown>;
  /** what the request may still spend: link-list items and time (operation-limits.ts) */
  budget: OperationBudget;
  /** the URL clients call for a deployment */
  endpointUrl(projectSlug: string, deploymentName: string): string;
}
