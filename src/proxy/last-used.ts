// lastUsedAt is recorded in batches, never written per request: the auth table counts the keys
// used, and a flush writes them in one statement. A failed flush keeps them for the next one.
// Only with usage metering off: with it on, the usage flush carries lastUsedAt (usage/flusher.ts).
import type { Logger } from 'pino';
import type { Sql } from '../db/sql.ts';
import { markKeysUsed } from '../db/statements/index.ts';
import { every } from '../runtime/every.ts';
import type { AuthTable } from './auth-table.ts';

/** How often the keys used are flushed (at least every 10 s). */
export const LAST_USED_FLUSH_MS = 5_000;

export function createLastUsedFlush(table: AuthTable, sql: Sql, log: Logger): () => Promise<void> {
  return async () => {
    const used = table.drainUsed();
    if (used.size === 0) return;
    // Used at some point since the last flush: the flush's time stands for them all (within 5 s).
    const at = Date.now();
    try {
      await markKeysUsed(sql, new Map([...used].map((id) => [id, at])));
    } catch (error) {
      for (const id of used) table.recordUse(id); // try again next time
      log.warn({ err: (error as Error).message, keys: used.size }, 'could not record lastUsedAt');
    }
  };
}

/** lastUsedAt alone (metering off): the auth table's batch, every LAST_USED_FLUSH_MS and on stop. */
export function startLastUsedFlusher(table: AuthTable, sql: Sql, log: Logger): { stop(): Promise<void> } {
  const flush = createLastUsedFlush(table, sql, log);
  const stopTimer = every(LAST_USED_FLUSH_MS, flush);
  return {
    async stop() {
      await stopTimer();
      await flush();
    },
  };
}
