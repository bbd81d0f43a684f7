// What a database (or connection) error means, decided in this one place: Prisma's error codes,
// Postgres' messages and Node's socket errors become the codes keygate answers with. The
// recorder re-runs RETRYABLE changes; the API shows the others (src/graphql/errors.ts).
export type DbErrorCode = 'CONFLICT' | 'NOT_FOUND' | 'RETRYABLE' | 'UNAVAILABLE';

export interface DbFailure {
  code: DbErrorCode;
  /** safe to show to a client */
  message: string;
}

const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

type ErrorLike = { code?: unknown; cause?: unknown; message?: unknown; name?: unknown } | undefined;

function isUnavailable(error: unknown): boolean {
  for (let e = error as ErrorLike, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && /connect|connection|terminat|timed out|ECONNREFUSED|Closed|socket/i.test(e.message) && /DriverAdapterError|database|postgres|pool|connect/i.test(`${e.name} ${e.message}`)) {
      return true;
    }
    e = e.cause as ErrorLike;
  }
  return false;
}

/** What the driver adapter made of a raw statement's failure (Prisma reports those as P2010). */
const rawFailureKind = (e: ErrorLike): unknown =>
  (e as { meta?: { driverAdapterError?: { cause?: { kind?: unknown } } } } | undefined)?.meta?.driverAdapterError?.cause?.kind;

/** The failure `error` stands for; null when it is no database condition keygate names. */
export function dbFailure(error: unknown): DbFailure | null {
  const e = error as ErrorLike;
  const rawKind = rawFailureKind(e);
  // A foreign key failed: a row the change refers to was deleted by a concurrent change.
  if (e?.code === 'P2003' || rawKind === 'ForeignKeyConstraintViolation') {
    return { code: 'NOT_FOUND', message: 'something this change refers to was deleted meanwhile: reload and retry' };
  }
  if (e?.code === 'P2002' || rawKind === 'UniqueConstraintViolation') return { code: 'CONFLICT', message: 'a record with this name already exists' };
  // Deadlocks and serialization failures are resolved by running the transaction again.
  if (e?.code === 'P2034' || /deadlock detected|could not serialize/i.test(typeof e?.message === 'string' ? e.message : '')) {
    return { code: 'RETRYABLE', message: 'a concurrent change got in the way: retry' };
  }
  if (isUnavailable(error)) return { code: 'UNAVAILABLE', message: 'the database or Redis cannot be reached right now: retry' };
  return null;
}
