// API_KEY_EXPIRED: once a key's expiresAt passes, one event is recorded for it — once across all
// control-plane replicas, because the claim (FOR UPDATE SKIP LOCKED + the announced flag) and the
// event commit in one transaction.
import type { PrismaClient } from '../db/database.ts';
import type { ChangeEvent } from '../feed/events.ts';
import { recordChange, toKeyState } from './change-log.ts';

const BATCH = 100;

/** Records API_KEY_EXPIRED for every key that has expired and not been announced; returns the events. */
export async function announceExpiredKeys(prisma: PrismaClient, now = new Date()): Promise<ChangeEvent[]> {
  return prisma.$transaction(async (tx) => {
    const due = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM api_keys
      WHERE expires_at <= ${now} AND NOT expiry_announced
      ORDER BY expires_at
      LIMIT ${BATCH}
      FOR UPDATE SKIP LOCKED`;
    const events: ChangeEvent[] = [];
    for (const { id } of due) {
      const key = await tx.apiKey.update({ where: { id }, data: { expiryAnnounced: true } });
      events.push(
        await recordChange(tx, null, {
          projectId: key.projectId,
          type: 'API_KEY_EXPIRED',
          payload: { apiKeyId: key.id, apiKey: toKeyState(key) },
        }),
      );
    }
    return events;
  });
}
