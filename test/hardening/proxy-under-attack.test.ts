// Issue 15, findings 1 and 2: while one project token ran the worst accepted query, a proxied
// request waited 21.9 s. In `keygate start` (control plane and proxy in one process), the proxy
// must keep answering /-/healthz within 100 ms at the 95th percentile while an attacker runs the
// worst accepted query in a loop, alone and as a batch. The bound is the explicit
// requirement of isolation, so this test asserts it; it takes many samples, one at a time, so a
// busy machine's occasional stall does not decide the outcome. It failed before the link lists were
// charged with their nested subtrees (p95 582 ms at a load of ~17; 231 ms with the subtree charge
// alone, the rows of the first level still loaded per operation of the batch).
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/services.ts';
import { ADMIN, gql, p95, sampleHealthz, startKeygateProcess } from './keygate-process.ts';
import { seedAllLinked, WORST_QUERY } from './operation-limits-helpers.ts';

const SAMPLES = 400;
const P95_BOUND_MS = 100;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('keygate start under a query-cost attack', () => {
  it(`keeps /-/healthz under ${P95_BOUND_MS} ms p95 while a project token loops the worst query, alone and batched`, async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await seedAllLinked(client, 'dos', 100, 17);
    } finally {
      await client.end();
    }
    const { graphql, proxy } = await startKeygateProcess(db, cleanups);
    const project = await gql(graphql, ADMIN, { query: '{ project(slug: "dos") { id } }' });
    const created = await gql(graphql, ADMIN, {
      query: 'mutation($p: ID!) { createAccessToken(input: { name: "attacker", projectId: $p }) { token } }',
      variables: { p: project.data.project.id },
    });
    const token: string = created.data.createAccessToken.token;

    const quiet = await sampleHealthz(proxy, 50);

    let running = true;
    let attacks = 0;
    const codes = new Set<string>();
    const attacker = async (body: unknown) => {
      while (running) {
        const answer = await gql(graphql, token, body).catch((error: Error) => ({ errors: [{ extensions: { code: `${error.message}: ${(error.cause as Error)?.message}` } }] }));
        for (const r of Array.isArray(answer) ? answer : [answer]) codes.add(r.errors?.[0]?.extensions?.code ?? 'none');
        attacks++;
      }
    };
    const attackers = [attacker({ query: WORST_QUERY }), attacker(Array.from({ length: 10 }, () => ({ query: WORST_QUERY })))];
    let underAttack: number[];
    try {
      await new Promise((resolve) => setTimeout(resolve, 500)); // the attack is under way
      underAttack = await sampleHealthz(proxy, SAMPLES);
    } finally {
      running = false;
      await Promise.all(attackers);
    }
    console.log(`healthz p95: ${p95(quiet).toFixed(1)} ms quiet, ${p95(underAttack).toFixed(1)} ms under attack (${attacks} attack requests, ${SAMPLES} samples)`);
    expect(attacks).toBeGreaterThan(5);
    expect([...codes]).toEqual(['RESULT_TOO_LARGE']);
    expect(p95(underAttack)).toBeLessThanOrEqual(P95_BOUND_MS);
  }, 180_000);
});
