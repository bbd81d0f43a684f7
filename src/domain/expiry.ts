// The expiry sweeper's two announcements, each once per key across all control-plane replicas,
// because the claim (FOR UPDATE SKIP LOCKED + an announced flag) and the event commit in one
// change. Each key is its own change, recorded and published by the feed's recorder like any
// mutation's.
// - API_KEY_EXPIRING: the key's expiresAt is inside the warning window (KEYGATE_EXPIRY_WARNING_HOURS)
//   and still ahead, also for a key created or updated inside it (an update of expiresAt clears
//   the flag). A key whose expiry passed before it was warned is not warned any more.
// - API_KEY_EXPIRED: its expiresAt has passed.
import { claimExpiredKeys, claimExpiringKeys } from '../db/statements/index.ts';
import { type Sql, sqlOfPrisma } from '../db/sql.ts';
import type { ChangeEvent } from '../feed/events.ts';
import { toKeyState } from '../feed/events.ts';
import type { ChangeOutcome, Changes } from '../feed/recorder.ts';
import type { Tx } from '../db/database.ts';

const BATCH = 100;

/** Whether a key is `expiresSoon`: not expired yet, and expiring within the warning window. */
export function expiresSoon(expiresAt: Date | null, warningMs: number, now = Date.now()): boolean {
  if (expiresAt === null) return false;
  const at = expiresAt.getTime();
  return at > now && at <= now + warningMs;
}

/** Claims one key and records its event, a change at a time, up to a batch; returns the events. */
async function announceEach(changes: Changes, claim: (sql: Sql) => Promise<string[]>, announce: (tx: Tx, id: string) => Promise<ChangeOutcome<null>>) {
  const events: ChangeEvent[] = [];
  while (events.length < BATCH) {
    const { event } = await changes.record(null, async (tx) => {
      const [id] = await claim(sqlOfPrisma(tx));
      if (id === undefined) return { result: null, change: null };
      return announce(tx, id);
    });
    if (!event) return events;
    events.push(event);
  }
  return events;
}

/** Records API_KEY_EXPIRING for every key newly inside the warning window (up to a batch); returns the events. */
export function announceExpiringKeys(changes: Changes, warningMs: number, now = new Date()): Promise<ChangeEvent[]> {
  if (warningMs <= 0) return Promise.resolve([]);
  return announceEach(
    changes,
    (sql) => claimExpiringKeys(sql, now, new Date(now.getTime() + warningMs), 1),
    async (tx, id) => {
      const key = await tx.apiKey.update({ where: { id }, data: { expiringAnnounced: true }, select: { id: true, projectId: true } });
      return { result: null, change: { projectId: key.projectId, type: 'API_KEY_EXPIRING', payload: { apiKeyId: key.id } } };
    },
  );
}

/** Records API_KEY_EXPIRED for every key that has expired and not been announced (up to a batch); returns the events. */
export function announceExpiredKeys(changes: Changes, now = new Date()): Promise<ChangeEvent[]> {
  return announceEach(
    changes,
    (sql) => claimExpiredKeys(sql, now, 1),
    async (tx, id) => {
      // An expired key is past warning: an unwarned one is not warned afterwards.
      const key = await tx.apiKey.update({ where: { id }, data: { expiryAnnounced: true, expiringAnnounced: true } });
      return { result: null, change: { projectId: key.projectId, type: 'API_KEY_EXPIRED', payload: { apiKeyId: key.id, apiKey: toKeyState(key) } } };
    },
  );
}
