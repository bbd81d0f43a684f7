// The 1,000-key GraphQL list (test/helpers/operations.ts ProjectKeys, first: 1000, each key with its
// deployments) against a control plane in this process: its times over `runs` runs after a
// warm-up, and the SQL statements Prisma sent for one run (its onQuery hook). Used by bench/scale.ts
// on the scale data and by bench/list.ts on its own small seed.
import { ProjectKeys } from '../../test/helpers/operations.ts';
import { gql, type InProcessKeygate } from './keygate.ts';

export interface ListRuns {
  /** each run's time, request sent to response parsed, in ms */
  ms: number[];
  /** CPU time of this process (the control plane and the client) per run, in ms: less swayed by
   *  other work on the machine than the times */
  cpuMsPerRun: number;
  /** the statements of one run (the fewest over five runs) */
  statements: string[];
}

export async function measureList(cp: InProcessKeygate, slug: string, runs: number, warmup = 3): Promise<ListRuns> {
  const list = async () => {
    const t0 = performance.now();
    const data = await gql(cp.url, ProjectKeys, { slug, first: 1000 });
    const ms = performance.now() - t0;
    const edges = data.project?.apiKeys.edges ?? [];
    if (edges.length !== 1000 || edges.some((e) => e.node.deployments.length !== 2)) throw new Error(`the list returned ${edges.length} keys, not 1000 with 2 deployments each`);
    return ms;
  };
  for (let i = 0; i < warmup; i++) await list();
  const ms: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < runs; i++) ms.push(await list());
  const { user, system } = process.cpuUsage(cpu);
  const cpuMsPerRun = (user + system) / 1000 / runs;
  // The control plane's background work (head poll, expiry sweeper, token watch) runs on timers
  // and can land inside a run, so the fewest statements over five runs is the list's own count.
  let statements: string[] = [];
  for (let i = 0; i < 5; i++) {
    cp.queries.length = 0;
    await list();
    if (i === 0 || cp.queries.length < statements.length) statements = [...cp.queries];
  }
  return { ms, cpuMsPerRun, statements };
}
