import type { PrismaClient } from '../db/database.ts';
import type { Changes } from '../feed/recorder.ts';
import type { UpstreamPolicy } from './upstream-policy.ts';

/** What the domain services are given: the database, the feed's recorder of changes and the upstream rules. */
export interface DomainDeps {
  prisma: PrismaClient;
  changes: Changes;
  upstreamPolicy: UpstreamPolicy;
  /** how long before its expiresAt a key is `expiresSoon` (KEYGATE_EXPIRY_WARNING_HOURS) */
  expiryWarningMs: number;
}
