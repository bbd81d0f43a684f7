// Periodic work of a control plane: the expiry sweeper (warnings and expiries, within 5 s), change-log
// pruning and usage retention. Each run is guarded so a slow or failing one never overlaps the next.
import type { PrismaClient } from '../db/database.ts';
import { sqlOfPrisma } from '../db/sql.ts';
import { pruneUsage } from '../db/statements/index.ts';
import { announceExpiredKeys, announceExpiringKeys } from '../domain/expiry.ts';
import { pruneChangeLog } from '../feed/change-log.ts';
import type { Changes } from '../feed/recorder.ts';
import { every } from '../runtime/every.ts';
import type { Logger } from './logger.ts';

export function startBackgroundJobs(deps: {
  prisma: PrismaClient;
  changes: Changes;
  log: Logger;
  retentionHours: number;
  /** KEYGATE_EXPIRY_WARNING_HOURS in ms: API_KEY_EXPIRING that long before expiresAt */
  expiryWarningMs: number;
  sweepMs?: number;
}) {
  const { prisma, changes, log } = deps;
  // Expiry events are recorded and published by the feed's recorder, as mutations' are; a key's
  // warning comes before its expiry (docs/architecture.md, "Rotation and expiry warnings").
  const stopSweeper = every(deps.sweepMs ?? 1000, async () => {
    try {
      const now = new Date();
      await announceExpiringKeys(changes, deps.expiryWarningMs, now);
      await announceExpiredKeys(changes, now);
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'expiry sweep failed');
    }
  });
  const stopPruner = every(10 * 60_000, async () => {
    try {
      const pruned = await pruneChangeLog(prisma, deps.retentionHours);
      if (pruned > 0) log.info({ pruned }, 'pruned the change log');
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'change log pruning failed');
    }
    try {
      const pruned = await pruneUsage(sqlOfPrisma(prisma));
      if (pruned > 0) log.info({ pruned }, 'pruned usage buckets past their retention');
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'usage pruning failed');
    }
  });
  return async () => {
    await stopSweeper();
    await stopPruner();
  };
}
