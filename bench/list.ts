// The 1,000-key GraphQL list on its own (issue 18 item 5), without the scale section's million-key
// seed: a fresh database with `projects` projects of 1,000 keys and 100 deployments each (every key
// linked to two), a control plane in this process, and the list of the first project timed as
// bench/scale.ts times it: after a change, and repeated with nothing changed (bench/lib/list-1000.ts).
//
//   npx tsx bench/list.ts [--runs 50] [--projects 100] [--rounds 1]
//
// Prints p50/p95 per round and the 1-minute load average next to them; never fails on a timing.
// Needs Postgres and Redis on 127.0.0.1 (TEST_POSTGRES_URL / TEST_REDIS_URL as for the tests).
import { parseArgs } from 'node:util';
import { cleanupAll, guardRun } from './lib/cleanup.ts';
import { freshDatabase, freshRedisPrefix, startInProcess } from './lib/keygate.ts';
import { type ListTimes, measureList } from './lib/list-1000.ts';
import { loadAverage } from './lib/procs.ts';
import { seedScale } from './lib/seed-scale.ts';
import { percentile } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '50' }, projects: { type: 'string', default: '100' }, rounds: { type: 'string', default: '1' } },
});
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
  const stopGuard = guardRun(600_000);
  const db = await freshDatabase();
  const seeded = await seedScale(db.url, { projects: Number(args.projects), keysPerProject: 1000, deploymentsPerProject: 100 }, 'http://127.0.0.1:9', 10);
  say(`seeded ${seeded.keys} keys, ${seeded.deployments} deployments, ${seeded.links} links`);
  const cp = await startInProcess('control-plane', db.url, freshRedisPrefix());
  for (let round = 1; round <= Number(args.rounds); round++) {
    const load = loadAverage();
    const { uncached, repeated, statements, headReads } = await measureList(cp, seeded.firstProjectSlug, Number(args.runs));
    const figures = (t: ListTimes) =>
      `p50 ${percentile(t.ms, 50).toFixed(1)} ms, p95 ${percentile(t.ms, 95).toFixed(1)} ms, ${t.cpuMsPerRun.toFixed(1)} ms CPU per run (server and client)`;
    say(`round ${round} (${uncached.ms.length} runs each, load average ${load} → ${loadAverage()}):`);
    say(`  after a change: ${figures(uncached)}; ${statements.length} SQL statements and ${headReads} head read`);
    say(`  repeated:       ${figures(repeated)}`);
  }
  await cp.stop();
  await cleanupAll();
  stopGuard();
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    process.stderr.write(`bench/list: ${(error as Error)?.stack ?? String(error)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
