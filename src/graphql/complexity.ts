// Query cost, counted by @pothos/plugin-complexity when execution starts (before any resolver
// reads the database), from the operation's coerced argument values: `first: 1000` costs the same
// written as a literal or as a variable. graphql-armor's cost limit read only literal `first`s, so
// a variable page size counted as 1 and nested link lists went unchecked.
//
// The cost estimates the fields the server resolves: every field costs 1, and a field's
// sub-selection counts once per item it returns. A connection multiplies by its page size
// (connections.ts, pageComplexity); a link list by LINKS_PER_ITEM. The plugin checks when a root
// field starts resolving: a query or mutation is refused whole; a subscription is checked when it
// subscribes (refuseCostlySubscription).
import { type ASTNode, type ExecutionArgs, type ExecutionResult, GraphQLError, getOperationAST, responsePathAsArray } from 'graphql';
import { type ComplexityErrorFn, complexityFromQuery } from '@pothos/plugin-complexity';

/**
 * How many deployments a key opens, or keys a deployment admits, a query is assumed to meet:
 * ApiKey.deployments and Deployment.apiKeys are unpaged. bench/scale.ts's shape (two deployments
 * per key, twenty keys per deployment) is the realistic one; 20 covers its larger side.
 */
export const LINKS_PER_ITEM = 20;

/**
 * The most an operation may cost. It admits the API's largest legitimate reads, e.g. the
 * dashboard's DashboardProject (a 1,000-key page with each key's deployments and a 1,000-deployment
 * page with each deployment's keys: cost 123,006), and refuses a link list nested in another under
 * a full page (1,000 keys, their deployments, those deployments' keys: 423,002).
 */
export const QUERY_COST_BUDGET = 150_000;

/** The extensions.code of a refused operation. */
export const QUERY_TOO_COSTLY = 'QUERY_TOO_COSTLY';

/** Cost of an unpaged list of linked keys or deployments. */
export const linkListComplexity = { field: 1, multiplier: LINKS_PER_ITEM } as const;

/** The refusal, at `nodes` (and `path` when a field was refused), never masked as an unexpected error. */
function tooCostly(complexity: number, maxComplexity: number, at: { nodes?: readonly ASTNode[] | ASTNode | null; path?: readonly (string | number)[] }) {
  return new GraphQLError(`Query cost limit of ${maxComplexity} exceeded, found ${complexity}: ask for smaller pages (first) or fewer nested lists`, {
    nodes: at.nodes ?? null,
    path: at.path,
    extensions: { code: QUERY_TOO_COSTLY, cost: complexity, maxCost: maxComplexity },
  });
}

/** A GraphQL error at the root field the plugin refused. */
const complexityError: ComplexityErrorFn = (_kind, { complexity, maxComplexity }, info) =>
  tooCostly(complexity, maxComplexity ?? QUERY_COST_BUDGET, { nodes: info.fieldNodes, path: responsePathAsArray(info.path) });

/** The operation's cost, as the plugin counts it. */
export function operationCost(args: ExecutionArgs): number {
  return complexityFromQuery(args.document, {
    schema: args.schema,
    ctx: args.contextValue as object,
    variables: (args.variableValues ?? {}) as Record<string, unknown>,
  }).complexity;
}

/**
 * The plugin checks a subscription only as each event resolves, so a too-costly one would be
 * accepted and then fail event by event. Checked here when it subscribes instead: the refusal, or
 * null when it is within the budget.
 */
export function refuseCostlySubscription(args: ExecutionArgs): ExecutionResult | null {
  const complexity = operationCost(args);
  if (complexity <= QUERY_COST_BUDGET) return null;
  return { errors: [tooCostly(complexity, QUERY_COST_BUDGET, { nodes: getOperationAST(args.document, args.operationName) })] };
}

/** The builder's `complexity` options. */
export const complexityOptions = {
  limit: { complexity: QUERY_COST_BUDGET },
  complexityError,
};
