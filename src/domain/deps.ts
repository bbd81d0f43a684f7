import type { PrismaClient } from '../db/database.ts';
import type { Changes } from './changes.ts';
import type { UpstreamPolicy } from './upstream-policy.ts';

/** What the domain services are given: the database, the change runner and the upstream rules. */
export interface DomainDeps {
  prisma: PrismaClient;
  changes: Changes;
  upstreamPolicy: UpstreamPolicy;
}
