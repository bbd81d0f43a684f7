// One execution per event and per kind of subscriber, not one per subscriber.
//
// A subscription executes its selection set again for every event it receives; with 1,000
// subscribers on a project, one change meant 1,000 executions of the same selection over the same
// event. This plugin replaces the subscribe function (HTTP/SSE and graphql-ws both go through it)
// with one that executes each event once per *result key* and hands that same result to every
// subscriber with the key. Only events that offer sharing (`SharedEvent`: the live events of
// project-events.ts, each delivered as one object to all its subscribers) are shared; anything
// else — replayed events, another subscription field — is executed per subscriber as before.
//
// The result key is everything a result can depend on: the document, the operation name, the
// variables as sent, and the viewer's reach (role and project). Subscribers that differ in any of
// them never share. Errors in a shared result are masked per subscriber afterwards (yoga's masking
// runs on each subscriber's stream), so each still gets its own request id.
import {
  type ASTNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  createSourceEventStream,
  execute,
  getOperationAST,
  print,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { refuseCostlySubscription } from '../graphql/complexity.ts';
import type { GraphQLContext } from '../graphql/context.ts';
import { type BudgetLimits, createOperationBudget, DEFAULT_BUDGET_LIMITS } from '../graphql/operation-limits.ts';

/** An event that keeps, for its lifetime, one result per key for all the subscribers it reaches. */
export interface SharedEvent {
  shareResult(key: string, produce: () => unknown): unknown;
}

const isSharedEvent = (payload: unknown): payload is SharedEvent =>
  typeof (payload as Partial<SharedEvent> | null)?.shareResult === 'function';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** `limits`: each event's own item budget and deadline (the configured request limits). */
export const useSharedSubscriptionResults = (limits: BudgetLimits = DEFAULT_BUDGET_LIMITS): Plugin<GraphQLContext> => ({
  onSubscribe: ({ setSubscribeFn }) => {
    setSubscribeFn(((args: ExecutionArgs) => subscribeSharingResults(args, limits)) as never);
  },
});

async function subscribeSharingResults(args: ExecutionArgs, limits: BudgetLimits): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const refused = refuseCostlySubscription(args);
  if (refused) return refused;
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return asBadInput(source);
  const key = resultKey(args);
  // Each event is its own operation for the request limits: its own item budget and deadline.
  const run = (payload: unknown): Result =>
    execute({ ...args, rootValue: payload, contextValue: { ...(args.contextValue as GraphQLContext), budget: createOperationBudget(limits) } });
  const share = (payload: unknown) => (isSharedEvent(payload) ? (payload.shareResult(key, () => run(payload)) as Result) : run(payload));
  return mapEvents(source[Symbol.asyncIterator](), share, getOperationAST(args.document, args.operationName) ?? null);
}

const printed = new WeakMap<DocumentNode, string>();

/** Computed once per subscription. The document is printed, so equal queries share whatever parsed them. */
function resultKey(args: ExecutionArgs): string {
  let document = printed.get(args.document);
  if (document === undefined) printed.set(args.document, (document = print(args.document)));
  const { viewer } = args.contextValue as GraphQLContext;
  return JSON.stringify([document, args.operationName ?? null, args.variableValues ?? null, viewer.role, viewer.projectId]);
}

/**
 * Errors raised before any resolver ran (variables that do not coerce) are the client's: marked as
 * graphql-tools' subscribe marks them, so the answer is what it was before this plugin.
 */
function asBadInput(result: ExecutionResult): ExecutionResult {
  for (const error of result.errors ?? []) {
    if (error.originalError) continue;
    const extensions = error.extensions as Record<string, unknown>;
    extensions.code ??= 'BAD_USER_INPUT';
    extensions.http ??= { status: 400 };
  }
  return result;
}

/**
 * Maps the source stream to results. Hand-written rather than an async generator: `return()` must
 * reach the source at once, even while a `next()` waits for the next event (a generator would
 * queue it behind that wait). An error from the source is wrapped as graphql-tools wraps it.
 */
function mapEvents(source: AsyncIterator<unknown>, map: (payload: unknown) => Result, operation: ASTNode | null): AsyncIterableIterator<ExecutionResult> {
  const wrap = (error: unknown): never => {
    throw new GraphQLError((error as Error)?.message ?? String(error), { originalError: error as Error, nodes: operation });
  };
  const step = (r: IteratorResult<unknown>): Promise<IteratorResult<ExecutionResult>> =>
    r.done ? Promise.resolve({ done: true, value: undefined }) : Promise.resolve(map(r.value)).then((value) => ({ done: false, value }));
  return {
    next: () => source.next().then(step, wrap),
    return: async () => {
      await source.return?.();
      return { done: true, value: undefined };
    },
    throw: async (error?: unknown) => {
      if (source.throw) return source.throw(error).then(step, wrap);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
