// The response cache's rules (src/graphql-server/response-cache.ts) without a database: an answer
// is kept for its revision and token, and no longer than the time a field said it turns.
import { type ExecutionArgs, type ExecutionResult, GraphQLError, parse } from 'graphql';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { answerChangesAt } from '../../src/graphql/answer-validity.ts';
import { schema } from '../../src/graphql/schema.ts';
import { useResponseCache } from '../../src/graphql-server/response-cache.ts';

const LIST = parse('query ($slug: String!) { project(slug: $slug) { apiKeys { edges { node { name expired } } } } }');
const USAGE = parse('query ($slug: String!) { project(slug: $slug) { apiKeys { edges { node { name lastUsedAt } } } } }');
const admin = { tokenId: null, tokenName: 'env', role: 'ADMIN', projectId: null };

function harness() {
  const plugin = useResponseCache({ maxBytes: 1_000_000, maxEntries: 10 });
  let head = 1;
  const prisma = { $queryRawUnsafe: async () => [{ revision: head }] };
  /** One execution: the kept answer's JSON, or null when it ran (and `answer` is kept as written). */
  const run = async (document = LIST, viewer: object = admin, answer: (ctx: object) => ExecutionResult = () => ({ data: { project: { name: 'x' } } })) => {
    const contextValue = { viewer, prisma };
    let kept: ExecutionResult | null = null;
    const args = { schema, document, contextValue, variableValues: { slug: 'p' }, operationName: null } as unknown as ExecutionArgs;
    const hooks = await (plugin.onExecute as (p: unknown) => unknown)({ args, setResultAndStopExecution: (r: ExecutionResult) => (kept = r) });
    if (kept) return (kept as { stringify: () => string }).stringify();
    const result = answer(contextValue) as ExecutionResult & { stringify?: (r: unknown) => string };
    (hooks as { onExecuteDone?: (p: { result: ExecutionResult }) => void } | undefined)?.onExecuteDone?.({ result });
    result.stringify?.(result); // yoga writes the answer
    return null;
  };
  return { run, setHead: (revision: number) => (head = revision) };
}

afterEach(() => vi.useRealTimers());

describe('the response cache', () => {
  it('keeps an answer for its head revision and its token only', async () => {
    const { run, setHead } = harness();
    expect(await run()).toBeNull();
    expect(await run()).toBe('{"data":{"project":{"name":"x"}}}');
    expect(await run(LIST, { ...admin, tokenId: 'another-token' })).toBeNull();
    setHead(2);
    expect(await run()).toBeNull();
    expect(await run()).not.toBeNull();
    // A database restored under a running control plane: revision 2 may come back with other contents.
    setHead(1);
    expect(await run()).toBeNull();
    setHead(2);
    expect(await run()).toBeNull();
  });

  it('keeps no answer past the time a field said it turns', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-07T12:00:00Z') });
    const { run } = harness();
    const expiresAt = new Date('2026-12-07T12:00:10Z');
    const expiring = (ctx: object) => {
      answerChangesAt(ctx, expiresAt);
      answerChangesAt(ctx, new Date('2026-12-07T11:00:00Z')); // already past: that answer will not turn
      return { data: { project: { name: 'x' } } };
    };
    expect(await run(LIST, admin, expiring)).toBeNull();
    vi.setSystemTime(new Date('2026-12-07T12:00:09Z'));
    expect(await run()).not.toBeNull();
    vi.setSystemTime(expiresAt);
    expect(await run()).toBeNull();
  });

  it('keeps nothing for a document with a field outside the revisioned ones, an error or a null root', async () => {
    const { run } = harness();
    for (let i = 0; i < 2; i++) expect(await run(USAGE)).toBeNull();
    const failing = () => ({ data: { project: { name: 'x' } }, errors: [new GraphQLError('boom')] });
    for (let i = 0; i < 2; i++) expect(await run(LIST, { ...admin, tokenId: 'a' }, failing)).toBeNull();
    const missing = () => ({ data: { project: null } });
    for (let i = 0; i < 2; i++) expect(await run(LIST, { ...admin, tokenId: 'b' }, missing)).toBeNull();
  });
});
