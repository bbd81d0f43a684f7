// API_KEY_EXPIRED: once a key's expiresAt passes, one event is recorded for it — once across all
// control-plane replicas, because the claim (FOR UPDATE SKIP LOCKED + the announced flag) and the
// event commit in one change. Each key is its own change, recorded and published by the feed's
// recorder like any mutation's.
import { claimExpiredKeys } from '../db/statements/index.ts';
import { sqlOfPrisma } from '../db/sql.ts';
import { type ChangeEvent, toKeyState } from '../feed/events.ts';
import type { Changes } from '../feed/recorder.ts';

const BATCH = 100;

/** Records API_KEY_EXPIRED for every key that has expired and not been announced (up to a batch); returns the events. */
export async function announceExpiredKeys(changes: Changes, now = new Date()): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  while (events.length < BATCH) {
    const { event } = await changes.record(null, async (tx) => {
      const [id] = await claimExpiredKeys(sqlOfPrisma(tx), now, 1);
      if (id === undefined) return { result: null, change: null };
      const key = await tx.apiKey.update({ where: { id }, data: { expiryAnnounced: true } });
      return { result: null, change: { projectId: key.projectId, type: 'API_KEY_EXPIRED', payload: { apiKeyId: key.id, apiKey: toKeyState(key) } } };
    });
    if (!event) return events;
    events.push(event);
  }
  return events;
}
