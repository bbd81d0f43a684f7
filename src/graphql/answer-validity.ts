// How long an answer stays true without a change to the data: a field whose value turns with the
// clock (ApiKey.expired) says when, and one that depends on what changes without a revision (keys
// ordered by lastUsedAt) says it may change any time. The response cache
// (src/graphql-server/response-cache.ts) keeps an answer no longer than that; with no cache
// listening, this does nothing.

const tracked = new WeakMap<object, { until: number }>();

/** Starts listening for an execution (its context); the returned object holds the earliest change. */
export function trackAnswerValidity(ctx: object): { until: number } {
  const validity = { until: Number.POSITIVE_INFINITY };
  tracked.set(ctx, validity);
  return validity;
}

/** The answer this field gave changes at `at` (a time still to come), with no change to the data. */
export function answerChangesAt(ctx: object, at: Date | null): void {
  const validity = tracked.get(ctx);
  if (!validity || at === null) return;
  const ms = at.getTime();
  if (ms > Date.now() && ms < validity.until) validity.until = ms;
}

/** The answer depends on something that changes without a revision: it is not to be kept at all. */
export function answerChangesAnyTime(ctx: object): void {
  const validity = tracked.get(ctx);
  if (validity) validity.until = 0;
}
