import type { PrismaClient } from '../db/database.ts';
import type { Changes } from './changes.ts';

/** What the domain services are given: the database and the change runner. */
export interface DomainDeps {
  prisma: PrismaClient;
  changes: Changes;
}
