// The one writer of changes (docs: the change-feed protocol). A change is one transaction that
// records at most one revision and one ChangeEvent; once it commits, the event is published.
// Mutations then wait for the proxies to confirm it (run); the expiry sweeper does not (record).
// The rules of each change live in src/domain; they open their transactions here.
import type { Logger } from 'pino';
import type { PrismaClient, Tx } from '../db/database.ts';
import { dbFailure } from '../db/errors.ts';
import { type Sql, sqlOfPrisma } from '../db/sql.ts';
import { headRevision } from '../db/statements/index.ts';
import { recordChange } from './change-log.ts';
import type { ChangeEvent, ChangeRecord } from './events.ts';
import type { Feed } from './feed.ts';
import { type Propagation, waitForPropagation } from './propagation.ts';

export interface ChangeOutcome<T> {
  result: T;
  /** null: the change changed nothing and takes no revision */
  change: ChangeRecord | null;
}

export type ChangeWork<T> = (tx: Tx) => Promise<ChangeOutcome<T>>;

/**
 * A change that one statement makes and records, outside any interactive transaction (a
 * statement is atomic: it is its own transaction, and the revision counter it locks is held until
 * its commit). It records through the change log (src/feed/change-log.ts) and returns the event,
 * null when it changed nothing.
 */
export type ChangeStatement<T> = (sql: Sql, actor: string | null) => Promise<{ result: T; event: ChangeEvent | null }>;

export interface Changes {
  /**
   * Records and publishes a mutation's change. Resolves once the transaction has committed;
   * `propagation` settles when every live proxy has confirmed the change, or at the timeout; it
   * never rejects. The caller must not answer before it settles, but may read what it answers
   * with meanwhile.
   */
  run<T>(actor: string | null, work: ChangeWork<T>): Promise<{ result: T; propagation: Promise<Propagation> }>;
  /** As run, for a change made by one statement: no interactive transaction, one round trip. */
  runStatement<T>(actor: string | null, statement: ChangeStatement<T>): Promise<{ result: T; propagation: Promise<Propagation> }>;
  /** Records and publishes a change nobody waits on (the expiry sweeper); resolves once published or not. */
  record<T>(actor: string | null, work: ChangeWork<T>): Promise<{ result: T; event: ChangeEvent | null }>;
}

export interface ChangesDeps {
  prisma: PrismaClient;
  feed: Feed;
  propagationTimeoutMs: number;
  log: Logger;
  /** told how each committed mutation propagated and how long the whole mutation took */
  onPropagation?: (propagation: Propagation, seconds: number) => void;
}

export function createChanges(deps: ChangesDeps): Changes {
  const { prisma, feed, propagationTimeoutMs, log, onPropagation } = deps;
  const sql = sqlOfPrisma(prisma);

  /** The transaction: the rule's work, then the event, committed together (re-run on a race). */
  const commit = <T>(actor: string | null, work: ChangeWork<T>) =>
    withRetry(() =>
      prisma.$transaction(async (tx) => {
        const outcome = await work(tx);
        return { result: outcome.result, event: outcome.change ? await recordChange(tx, actor, outcome.change) : null };
      }),
    );

  /** Publishes a committed event; false when it could not (consumers then catch up from the log). */
  const publish = (event: ChangeEvent): Promise<boolean> =>
    feed.publish(event).then(
      () => true,
      (error: unknown) => {
        log.warn({ revision: event.revision, err: (error as Error).message }, 'change committed but not published; proxies catch up by polling');
        return false;
      },
    );

  /** After commit: publishes the event and waits for the proxies (for a no-op, for the head). */
  const propagate = async <T>(started: number, { result, event }: { result: T; event: ChangeEvent | null }) => {
    if (!event) {
      const head = await headRevision(sql);
      return { result, propagation: waitForPropagation(feed, head, { timeoutMs: propagationTimeoutMs, published: true }) };
    }
    // Published while the live proxies are read: both only need the commit behind them.
    const published = publish(event);
    const propagation = waitForPropagation(feed, event.revision, { timeoutMs: propagationTimeoutMs, published }).then((settled) => {
      const { lagging, ...propagation } = settled;
      if (lagging.length > 0) {
        log.warn({ revision: event.revision, type: event.type, proxies: lagging, timeoutMs: propagationTimeoutMs }, 'change not confirmed in time by these proxies');
      } else {
        log.debug({ revision: event.revision, type: event.type, propagation }, 'change committed');
      }
      onPropagation?.(propagation, (performance.now() - started) / 1000);
      return propagation;
    });
    return { result, propagation };
  };

  return {
    async run(actor, work) {
      const started = performance.now();
      return propagate(started, await commit(actor, work));
    },

    async runStatement(actor, statement) {
      const started = performance.now();
      return propagate(started, await withRetry(() => statement(sql, actor)));
    },

    async record(actor, work) {
      const { result, event } = await commit(actor, work);
      if (event) {
        await publish(event);
        log.debug({ revision: event.revision, type: event.type }, 'change committed');
      }
      return { result, event };
    },
  };
}

/** Thrown inside a change to run it again from the start (a race it detected itself). */
export class RetryableChangeError extends Error {}

const MAX_ATTEMPTS = 4;

const isRetryable = (error: unknown) => error instanceof RetryableChangeError || dbFailure(error)?.code === 'RETRYABLE';

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
