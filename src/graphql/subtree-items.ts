// How many link-list items one item of a link list brings with it, as the cost estimate assumes
// (complexity.ts): itself, plus LINKS_PER_ITEM items for every link list nested in its selection,
// multiplied through the pages (`first`) and link lists between. operation-limits.ts charges a
// link list its real length times this weight before graphql-js completes its items, so a list
// whose nested lists would blow the request's budget is cut before its subtree is built (issue 15,
// finding 1: the budget used to be spent one nested list at a time, after 28,900 items were built).
import {
  type ExecutionArgs,
  type FieldNode,
  type GraphQLField,
  getArgumentValues,
  getOperationAST,
  getVariableValues, type GraphQLResolveInfo, type SelectionSetNode, getNamedType, isInterfaceType, isObjectType, Kind } from 'graphql';
import { LINKS_PER_ITEM } from './complexity.ts';

/** The unpaged link lists, whose real lengths the request's budget counts. */
export const LINK_LISTS = [
  ['ApiKey', 'deployments'],
  ['Deployment', 'apiKeys'],
] as const;

export const isLinkList = (typeName: string, fieldName: string) => LINK_LISTS.some(([t, f]) => t === typeName && f === fieldName);

type Info = Pick<GraphQLResolveInfo, 'schema' | 'fragments' | 'variableValues'>;

/** Per execution (its variables object): selection set → link items below one item. */
const cache = new WeakMap<object, WeakMap<SelectionSetNode, Map<string, number>>>();

/** The multiplier the cost estimate gives a field (a page's `first`), at least 1. */
function multiplier(field: GraphQLField<unknown, unknown>, node: FieldNode, info: Info): number {
  const complexity = field.extensions?.complexity as unknown;
  let option = complexity;
  if (typeof complexity === 'function') {
    try {
      option = complexity(getArgumentValues(field, node, info.variableValues), {}, field);
    } catch {
      return 1; // arguments the resolver refuses: nothing below it runs
    }
  }
  const m = (option as { multiplier?: number } | undefined)?.multiplier;
  return typeof m === 'number' && m > 1 ? m : 1;
}

/** Link-list items the selection `set` on `typeName` is assumed to hold for one parent object. */
function itemsBelow(set: SelectionSetNode, typeName: string, info: Info, active: Set<SelectionSetNode>): number {
  let byType = cache.get(info.variableValues);
  if (!byType) cache.set(info.variableValues, (byType = new WeakMap()));
  let memo = byType.get(set);
  const known = memo?.get(typeName);
  if (known !== undefined) return known;
  if (active.has(set)) return 0; // a cyclic fragment: validation refuses it before this runs
  active.add(set);
  const type = info.schema.getType(typeName);
  let total = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const field = isObjectType(type) || isInterfaceType(type) ? type.getFields()[selection.name.value] : undefined;
      if (!field || !selection.selectionSet) continue;
      const below = itemsBelow(selection.selectionSet, getNamedType(field.type).name, info, active);
      total += isLinkList(typeName, field.name) ? LINKS_PER_ITEM * (1 + below) : multiplier(field, selection, info) * below;
    } else {
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? info.fragments[selection.name.value] : selection;
      if (!fragment) continue;
      total += itemsBelow(fragment.selectionSet, fragment.typeCondition?.name.value ?? typeName, info, active);
    }
  }
  active.delete(set);
  if (!memo) byType.set(set, (memo = new Map()));
  memo.set(typeName, total);
  return total;
}

/** Link-list items an operation is assumed to hold in all (each link list at LINKS_PER_ITEM), before anything runs. */
export function operationItems(args: ExecutionArgs): number {
  const operation = getOperationAST(args.document, args.operationName);
  const root = operation && args.schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments: Info['fragments'] = {};
  for (const definition of args.document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  // Coerced as execution will coerce them; variables that do not coerce fail execution anyway.
  const coerced = operation.variableDefinitions?.length ? getVariableValues(args.schema, operation.variableDefinitions, args.variableValues ?? {}) : { coerced: {} };
  if (!('coerced' in coerced) || !coerced.coerced) return 0;
  return itemsBelow(operation.selectionSet, root.name, { schema: args.schema, fragments, variableValues: coerced.coerced }, new Set());
}

/** Link-list items one item of the link list being resolved brings: itself and what its selection nests. */
export function itemWeight(info: GraphQLResolveInfo): number {
  const typeName = getNamedType(info.returnType).name;
  let weight = 1;
  for (const node of info.fieldNodes) if (node.selectionSet) weight += itemsBelow(node.selectionSet, typeName, info, new Set());
  return weight;
}
