// The 1,000-key GraphQL list (test/helpers/operations.ts ProjectKeys, first: 1000, each key with its
// deployments) against a control plane in this process. Used by bench/scale.ts on the scale data
// and by bench/list.ts on its own small seed.
//
// Two kinds of runs, interleaved: `uncached` after a change (a key created in another project takes
// a revision, so the control plane's response cache, src/graphql-server/response-cache.ts, cannot
// answer and the list is read and executed), and `repeated` right after it with nothing changed
// (answered from the response cache). The change itself is not timed. The SQL statements are those
// of one uncached run (the fewest over five), with the cache's head read counted apart.
import { CreateApiKey, CreateProject, ProjectKeys } from '../../test/helpers/operations.ts';
import { gql, type InProcessKeygate } from './keygate.ts';

export interface ListTimes {
  /** each run's time, request sent to response parsed, in ms */
  ms: number[];
  /** CPU time of this process (the control plane and the client) per run, in ms: less swayed by
   *  other work on the machine than the times */
  cpuMsPerRun: number;
}

export interface ListRuns {
  uncached: ListTimes;
  repeated: ListTimes;
  /** the list's own statements in one uncached run */
  statements: string[];
  /** the response cache's head reads in that run */
  headReads: number;
}

const HEAD_READ = /FROM feed_state/;

export async function measureList(cp: InProcessKeygate, slug: string, runs: number, warmup = 3): Promise<ListRuns> {
  const churn = (await gql(cp.url, CreateProject, { slug: `list-churn-${Date.now().toString(36)}` })).createProject.project;
  let changes = 0;
  const change = () => gql(cp.url, CreateApiKey, { input: { projectId: churn.id, name: `churn-${++changes}` } });
  const list = async (into: { ms: number[]; cpuUs: number }) => {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const data = await gql(cp.url, ProjectKeys, { slug, first: 1000 });
    into.ms.push(performance.now() - t0);
    const { user, system } = process.cpuUsage(cpu);
    into.cpuUs += user + system;
    const edges = data.project?.apiKeys.edges ?? [];
    if (edges.length !== 1000 || edges.some((e) => e.node.deployments.length !== 2)) throw new Error(`the list returned ${edges.length} keys, not 1000 with 2 deployments each`);
  };
  const uncached = { ms: [] as number[], cpuUs: 0 };
  const repeated = { ms: [] as number[], cpuUs: 0 };
  for (let i = 0; i < warmup; i++) {
    await change();
    await list({ ms: [], cpuUs: 0 });
    await list({ ms: [], cpuUs: 0 });
  }
  for (let i = 0; i < runs; i++) {
    await change();
    await list(uncached);
    await list(repeated);
  }
  // The control plane's background work (head poll, expiry sweeper, token watch) runs on timers
  // and can land inside a run, so the fewest statements over five runs is the list's own count.
  let statements: string[] = [];
  for (let i = 0; i < 5; i++) {
    await change();
    cp.queries.length = 0;
    await list({ ms: [], cpuUs: 0 });
    if (i === 0 || cp.queries.length < statements.length) statements = [...cp.queries];
  }
  const times = (t: { ms: number[]; cpuUs: number }): ListTimes => ({ ms: t.ms, cpuMsPerRun: t.cpuUs / 1000 / runs });
  return {
    uncached: times(uncached),
    repeated: times(repeated),
    statements: statements.filter((q) => !HEAD_READ.test(q)),
    headReads: statements.filter((q) => HEAD_READ.test(q)).length,
  };
}
