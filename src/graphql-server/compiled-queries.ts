// Queries a client repeats run as JavaScript compiled for their document (graphql-jit) instead of
// through the generic executor. A 1,000-key page with each key's deployments is ~10,000 field
// resolutions, and the generic executor walks the document again for each of them; the compiled
// query does not (issue 18, item 5: execution of that page fell from 32 to 20 ms). The schema and
// every resolver are the same ones; only the walk changes.
//
// - Queries only: a mutation runs once and small, and subscriptions have their own executor
//   (shared-subscription-results.ts).
// - Compiling costs more than running once (up to ~75 ms and ~1.4 MB for a document at the size
//   limits), so a document is compiled at its COMPILE_AT-th execution, and at most MAX_COMPILED
//   compiled documents are kept (the least recently used goes first): a client sending a new
//   document each time never pays for compiling, and nobody can fill the memory with compiled code.
// - graphql-jit does not await a Promise held in a field without a resolver (graphql-js does). The
//   fields a query reaches without a resolver hold plain values; the mutation payloads, whose
//   `propagation` is a Promise, never run here.
import { type DocumentNode, type ExecutionArgs, getOperationAST } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

export const COMPILE_AT = 2;
export const MAX_COMPILED = 50;

interface Compiled {
  operationName: string | null;
  query: CompiledQuery['query'];
}

export function useCompiledQueries(limits = { compileAt: COMPILE_AT, maxCompiled: MAX_COMPILED }): Plugin {
  /** executions of each parsed document (yoga's parse cache hands out one object per query text) */
  const executions = new WeakMap<DocumentNode, number>();
  /** in least-recently-used order: a Map iterates in insertion order */
  const compiled = new Map<DocumentNode, Compiled>();

  const compiledFor = ({ schema, document, operationName = null }: ExecutionArgs): Compiled | null => {
    const hit = compiled.get(document);
    if (hit) {
      compiled.delete(document);
      compiled.set(document, hit);
      return hit.operationName === operationName ? hit : null;
    }
    const count = (executions.get(document) ?? 0) + 1;
    executions.set(document, count);
    if (count < limits.compileAt) return null;
    // Schema-valid documents compile; one that does not runs through the generic executor, which
    // answers it as it always has.
    const result = compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
    if (!isCompiledQuery(result)) return null;
    const entry = { operationName, query: result.query };
    compiled.set(document, entry);
    if (compiled.size > limits.maxCompiled) compiled.delete(compiled.keys().next().value!);
    return entry;
  };

  return {
    onExecute({ args, setExecuteFn }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      const entry = compiledFor(args);
      if (entry) setExecuteFn((a) => entry.query(a.rootValue, a.contextValue, a.variableValues));
    },
  };
}
