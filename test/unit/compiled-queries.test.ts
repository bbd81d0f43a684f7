// Which executions run compiled (src/graphql-server/compiled-queries.ts): a query from its second
// execution on, never a mutation, and at most `maxCompiled` documents kept, least recently used out.
import { buildSchema, type ExecutionArgs, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { useCompiledQueries } from '../../src/graphql-server/compiled-queries.ts';

const schema = buildSchema('type Query { hello(name: String): String } type Mutation { touch: Boolean }');
schema.getQueryType()!.getFields().hello!.resolve = (_root, { name }: { name?: string }) => `hello ${name ?? 'you'}`;
const rootValue = {};

/** Runs the plugin's onExecute for one execution; the compiled executor it installed, if any. */
function executorFor(plugin: ReturnType<typeof useCompiledQueries>, document: ReturnType<typeof parse>, variableValues = {}) {
  let installed: ((args: ExecutionArgs) => unknown) | null = null;
  const args = { schema, document, rootValue, contextValue: {}, variableValues, operationName: null } as unknown as ExecutionArgs;
  (plugin.onExecute as (p: unknown) => void)({ args, setExecuteFn: (fn: (args: ExecutionArgs) => unknown) => (installed = fn) });
  return installed === null ? null : () => (installed as (a: ExecutionArgs) => unknown)(args);
}

describe('compiled queries', () => {
  it('compiles a query at its second execution, with the same answer, and never a mutation', async () => {
    const plugin = useCompiledQueries({ compileAt: 2, maxCompiled: 10 });
    const query = parse('query ($name: String) { hello(name: $name) }');
    expect(executorFor(plugin, query)).toBeNull();
    const compiled = executorFor(plugin, query, { name: 'jit' });
    expect(compiled).not.toBeNull();
    expect(await compiled!()).toEqual({ data: { hello: 'hello jit' } });

    const mutation = parse('mutation { touch }');
    for (let i = 0; i < 3; i++) expect(executorFor(plugin, mutation)).toBeNull();
  });

  it('keeps at most maxCompiled documents, dropping the least recently used', async () => {
    const plugin = useCompiledQueries({ compileAt: 1, maxCompiled: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((alias) => parse(`{ ${alias}: hello }`));
    executorFor(plugin, a!);
    executorFor(plugin, b!);
    executorFor(plugin, a!); // a is now the most recently used
    executorFor(plugin, c!); // b goes
    // A compilation holds the resolvers it was compiled with: one swapped now shows only in a
    // document compiled again. A document still kept runs its kept compilation; b gets a new one.
    const hello = schema.getQueryType()!.getFields().hello!;
    const original = hello.resolve;
    hello.resolve = () => 'compiled again';
    try {
      expect(await executorFor(plugin, a!)!()).toEqual({ data: { a: 'hello you' } });
      expect(await executorFor(plugin, b!)!()).toEqual({ data: { b: 'compiled again' } });
    } finally {
      hello.resolve = original;
    }
  });
});
