// Runs a state-changing mutation as DESIGN.md's change-feed protocol asks: one transaction, at
// most one revision and one ChangeEvent, then publish, then wait for the proxies to confirm. The
// wait is handed back as a promise, so the answer can be prepared while the proxies apply it.
import type { Logger } from 'pino';
import type { PrismaClient } from '../db/database.ts';
import { sqlOfPrisma } from '../db/queries.ts';
import type { Feed } from '../feed/feed.ts';
import { type Propagation, waitForPropagation } from '../feed/propagation.ts';
import { type ChangeRecord, headRevision, recordChange, type Tx } from './change-log.ts';

export interface ChangeOutcome<T> {
  result: T;
  /** null: the mutation changed nothing and takes no revision */
  change: ChangeRecord | null;
}

export interface Changes {
  /**
   * Resolves once the transaction has committed. `propagation` settles when every live proxy has
   * confirmed the change, or at the timeout; it never rejects. The caller must not answer before
   * it settles, but may read what it answers with meanwhile.
   */
  run<T>(actor: string | null, work: (tx: Tx) => Promise<ChangeOutcome<T>>): Promise<{ result: T; propagation: Promise<Propagation> }>;
}

export interface ChangesDeps {
  prisma: PrismaClient;
  feed: Feed;
  propagationTimeoutMs: number;
  log: Logger;
  /** told how each committed change propagated and how long the whole mutation took */
  onPropagation?: (propagation: Propagation, seconds: number) => void;
}

export function createChanges(deps: ChangesDeps): Changes {
  const { prisma, feed, propagationTimeoutMs, log, onPropagation } = deps;
  const sql = sqlOfPrisma(prisma);
  return {
    async run(actor, work) {
      const started = performance.now();
      const { result, event } = await withRetry(() =>
        prisma.$transaction(async (tx) => {
          const outcome = await work(tx);
          return { result: outcome.result, event: outcome.change ? await recordChange(tx, actor, outcome.change) : null };
        }),
      );
      if (!event) {
        const head = await headRevision(sql);
        return { result, propagation: waitForPropagation(feed, head, { timeoutMs: propagationTimeoutMs, published: true }) };
      }
      // Published while the live proxies are read: both only need the commit behind them.
      const published = feed.publish(event).then(
        () => true,
        (error: unknown) => {
          log.warn({ revision: event.revision, err: (error as Error).message }, 'change committed but not published; proxies catch up by polling');
          return false;
        },
      );
      const propagation = waitForPropagation(feed, event.revision, { timeoutMs: propagationTimeoutMs, published }).then((settled) => {
        log.debug({ revision: event.revision, type: event.type, propagation: settled }, 'change committed');
        onPropagation?.(settled, (performance.now() - started) / 1000);
        return settled;
      });
      return { result, propagation };
    },
  };
}

/** Thrown inside a change to run it again from the start (a race it detected itself). */
export class RetryableChangeError extends Error {}

const MAX_ATTEMPTS = 4;

/** Deadlocks and serialization failures are resolved by running the transaction again. */
function isRetryable(error: unknown): boolean {
  if (error instanceof RetryableChangeError) return true;
  const e = error as { code?: string; message?: string };
  return e?.code === 'P2034' || /deadlock detected|could not serialize/i.test(e?.message ?? '');
}

async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      await new Promise((r) => setTimeout(r, 5 * i * Math.random()));
    }
  }
}
