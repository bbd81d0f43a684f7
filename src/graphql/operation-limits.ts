// Limits on what one request may make the control plane do (docs/operations.md, "Limits against a
// hostile tenant"; issue 15, finding 1).
//
// The cost estimate (complexity.ts) is checked before anything runs, but it can only guess the
// length of an unpaged link list (ApiKey.deployments, Deployment.apiKeys): a project token can
// link every key to every deployment, and a query that nests link lists grows with the square of
// the link count (100 keys × 17 deployments, all linked, nested twice: 2.89 M items, 20 s of one
// process's CPU). So the real lengths are counted as well: each link list is charged its real
// length times the items each of its items is assumed to bring (subtree-items.ts) before graphql-js
// completes them, and an operation whose link lists would hold more than the budget at the assumed
// lengths is cut before it starts. Once a request's charge exceeds MAX_LINKED_ITEMS, it is cut with
// RESULT_TOO_LARGE. The rows a link list loads are bounded the same way (linked-deployments.ts, the
// `take` of Deployment.apiKeys), so neither the database read nor the synchronous completion of a
// huge list can happen.
//
// A deadline bounds the rest: OPERATION_DEADLINE_MS after a request started, its next resolver
// that reads the database, or resolves a link list, cuts it with OPERATION_TIMEOUT. Between those
// points the work is bounded by the cost estimate and the item count, so a timer could not do
// better: graphql-js completes a resolved list synchronously, and no timer fires during it.
//
// The budget belongs to the HTTP request (or graphql-ws message): the operations of a batch share
// one, so a batch as a whole is bounded, not each of its operations. A cut request answers with
// the one error that cut it and no data, whatever else had resolved.
import { type ExecutionArgs, type GraphQLFieldResolver, type GraphQLResolveInfo, GraphQLError, type GraphQLSchema, isObjectType } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LINKS_PER_ITEM, operationCost, QUERY_COST_BUDGET } from './complexity.ts';
import { itemWeight, LINK_LISTS, operationItems } from './subtree-items.ts';

/** Items all the link lists of one request may hold together (a batch counts as one request). */
export const MAX_LINKED_ITEMS = 50_000;

/** A request still running this long after it started is cut at its next database read or link list. */
export const OPERATION_DEADLINE_MS = 2_000;

/** extensions.code of a request whose link lists held more than MAX_LINKED_ITEMS items. */
export const RESULT_TOO_LARGE = 'RESULT_TOO_LARGE';
/** extensions.code of a request cut at its deadline. */
export const OPERATION_TIMEOUT = 'OPERATION_TIMEOUT';

export interface OperationBudget {
  /** Counts `items` list items (negative: gives back a reservation); throws the cut once the budget is spent or the deadline passed. */
  charge(items: number): void;
  /** How many more link-list items may be loaded (a loader reads at most one more, to know it is too many). */
  readonly remaining: number;
  /** Throws the cut if the deadline has passed or the budget was spent. */
  check(): void;
  /** the error that cut the request, once it is cut */
  readonly cut: GraphQLError | null;
}

export interface BudgetLimits {
  maxLinkedItems: number;
  deadlineMs: number;
}

export const DEFAULT_BUDGET_LIMITS: BudgetLimits = { maxLinkedItems: MAX_LINKED_ITEMS, deadlineMs: OPERATION_DEADLINE_MS };

export function createOperationBudget(limits: BudgetLimits = DEFAULT_BUDGET_LIMITS, now: () => number = Date.now): OperationBudget {
  const deadline = now() + limits.deadlineMs;
  let used = 0;
  let cut: GraphQLError | null = null;
  const stop = (error: GraphQLError): never => {
    cut ??= error;
    throw cut;
  };
  const check = () => {
    if (cut) throw cut;
    if (now() > deadline) {
      stop(
        new GraphQLError(`the request ran longer than ${limits.deadlineMs} ms and was cut: ask for smaller pages or fewer nested lists`, {
          extensions: { code: OPERATION_TIMEOUT, deadlineMs: limits.deadlineMs },
        }),
      );
    }
  };
  return {
    charge(items) {
      check();
      used += items;
      if (used > limits.maxLinkedItems) {
        stop(
          new GraphQLError(
            `the request's linked keys and deployments exceed ${limits.maxLinkedItems} items and it was cut: nest fewer link lists or ask for smaller pages`,
            { extensions: { code: RESULT_TOO_LARGE, maxItems: limits.maxLinkedItems } },
          ),
        );
      }
    },
    get remaining() {
      return Math.max(0, limits.maxLinkedItems - used);
    },
    check,
    get cut() {
      return cut;
    },
  };
}

/**
 * One budget per request: every operation of a batch gets the same one. Keyed weakly by the
 * request object yoga hands each operation's context factory.
 */
export function budgetPerRequest(limits: BudgetLimits = DEFAULT_BUDGET_LIMITS): (request: object | undefined) => OperationBudget {
  const budgets = new WeakMap<object, OperationBudget>();
  return (request) => {
    if (!request) return createOperationBudget(limits);
    let budget = budgets.get(request);
    if (!budget) budgets.set(request, (budget = createOperationBudget(limits)));
    return budget;
  };
}

/** Variables that do not coerce are execution's to refuse, with its own error. */
function withinCost(args: ExecutionArgs): boolean {
  try {
    return operationCost(args) <= QUERY_COST_BUDGET;
  } catch {
    return false;
  }
}

/**
 * An operation whose link lists, at the LINKS_PER_ITEM items each that the cost estimate assumes,
 * would already hold more than the request may still spend is cut before it reads anything
 * (subtree-items.ts); its link lists would be cut as they resolve anyway, after loading rows.
 * A cut operation answers with the error that cut it and nothing else (no partial data, no pile
 * of per-field errors).
 */
export const useOperationLimits = (): Plugin<{ budget?: OperationBudget }> => ({
  onExecute: ({ args, setResultAndStopExecution }) => {
    const budget = (args.contextValue as { budget?: OperationBudget }).budget;
    if (budget) {
      const assumed = operationItems(args);
      // Over the cost budget, the cost plugin refuses it (QUERY_TOO_COSTLY) as it starts.
      if (budget.cut || (assumed > budget.remaining && withinCost(args))) {
        try {
          budget.charge(assumed);
        } catch (cut) {
          setResultAndStopExecution({ data: null, errors: [cut as GraphQLError] });
          return;
        }
      }
    }
    return {
      onExecuteDone: ({ result, setResult }) => {
        const cut = budget?.cut;
        if (cut && !(Symbol.asyncIterator in (result as object))) setResult({ data: null, errors: [cut] });
      },
    };
  },
});

/**
 * Counts every link list of the schema against the request's budget, around whatever resolves
 * it (the Prisma plugin included). A list is charged its real length times the items each of its
 * items brings (subtree-items.ts: itself, and LINKS_PER_ITEM for every link list nested below it),
 * before graphql-js completes its items: a list whose subtree would blow the budget is cut there,
 * not after its subtree was built. Before a list is loaded, LINKS_PER_ITEM such items are reserved,
 * as the cost estimate assumes, so a query that fans out into many link lists is cut before it
 * loads them; a list nested in a charged list was reserved by that charge already. Each list
 * settles the difference to its real length once it is known.
 */
export function countLinkLists(schema: GraphQLSchema): GraphQLSchema {
  for (const [typeName, fieldName] of LINK_LISTS) {
    const type = schema.getType(typeName);
    const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
    if (!field?.resolve) throw new Error(`no resolver for the link list ${typeName}.${fieldName}`);
    field.resolve = counted(field.resolve);
  }
  return schema;
}

/** Per request: the paths of the link lists whose charge reserved the link lists nested in their items. */
type Path = GraphQLResolveInfo['path'];
const reserving = new WeakMap<OperationBudget, WeakSet<Path>>();

/** Whether a link list above `path` reserved this one when it was charged. */
function reservedAbove(budget: OperationBudget, path: Path): boolean {
  const charged = reserving.get(budget);
  if (!charged) return false;
  for (let p = path.prev; p; p = p.prev) if (charged.has(p)) return true;
  return false;
}

function counted(resolve: GraphQLFieldResolver<unknown, { budget: OperationBudget }>): GraphQLFieldResolver<unknown, { budget: OperationBudget }> {
  return (parent, args, ctx, info) => {
    // Once cut, the answer is the cut alone (useOperationLimits): an empty list is the cheapest
    // way through what graphql-js still walks, where an error per list would cost a located
    // error each (tens of thousands of them).
    const { budget } = ctx;
    if (budget.cut) return [];
    const weight = itemWeight(info);
    if (!reservedAbove(budget, info.path)) budget.charge(LINKS_PER_ITEM * weight);
    else budget.check();
    const settle = (list: unknown) => {
      if (budget.cut) return [];
      budget.charge(((Array.isArray(list) ? list.length : 0) - LINKS_PER_ITEM) * weight);
      if (weight > 1) {
        let charged = reserving.get(budget);
        if (!charged) reserving.set(budget, (charged = new WeakSet()));
        charged.add(info.path);
      }
      return list;
    };
    const result = resolve(parent, args, ctx, info) as unknown;
    // After a cut, a list that fails with it answers [] instead: graphql-tools' executor stops
    // waiting for the siblings of a failed non-null field, and a rejection nobody waits for
    // would end the process.
    const afterCut = (error: unknown) => {
      if (budget.cut) return [];
      throw error;
    };
    return result instanceof Promise ? result.then(settle).catch(afterCut) : settle(result);
  };
}
