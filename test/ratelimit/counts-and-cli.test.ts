// What a rate limit leaves behind and how the CLI sets it, against one keygate with Redis: the
// `keys create --rpm/--tpm`, `keys update --rpm N|none --tpm N|none` options and the LIMITS column
// of `keys list`; a 429 counted as `rateLimited` in ApiKey.usage and Deployment.usage, and as
// keygate_proxy_refusals_total{reason="rate_limited"} on the proxy's status listener.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keygate } from '../helpers/cli.ts';
import { createDeployment, createProject } from '../helpers/fixtures.ts';
import { ADMIN_TOKEN, startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase, uniqueName } from '../helpers/services.ts';
import { within10s } from '../usage/helpers.ts';
import { call, type CountingUpstream, metric, startCountingUpstream } from './helpers.ts';

let kg: TestKeygate;
let upstream: CountingUpstream;
let db: TestDatabase;
let cliEnv: Record<string, string>;

beforeAll(async () => {
  upstream = await startCountingUpstream(300);
  db = await createTestDatabase();
  // The proxy acks over Redis: on a loaded machine it may need more than the helper's default second
  // to confirm, and the 429 test calls it right after its key is linked.
  const env = { DATABASE_URL: db.url, REDIS_URL, KEYGATE_REDIS_PREFIX: `${uniqueName('kgrlc')}:`, KEYGATE_PROPAGATION_TIMEOUT_MS: '10000', LOG_LEVEL: 'warn' };
  kg = await startTestKeygate({ env });
  cliEnv = { KEYGATE_URL: kg.url.replace(/\/graphql$/, ''), KEYGATE_TOKEN: ADMIN_TOKEN };
});
afterAll(async () => {
  await kg?.stop();
  await upstream?.stop();
  await db?.drop();
});

/** Runs a command that must succeed; returns its stdout. */
async function ok(args: string[]): Promise<string> {
  const result = await keygate(args, cliEnv);
  expect(result.stderr, `keygate ${args.join(' ')}`).toBe('');
  expect(result.code, `keygate ${args.join(' ')}`).toBe(0);
  return result.stdout;
}

/** The LIMITS cell of a key's row in `keys list` (the column is located by its header). */
async function limitsColumn(slug: string, name: string): Promise<string> {
  const lines = (await ok(['keys', 'list', '--project', slug])).split('\n');
  const header = lines[0]!;
  const start = header.indexOf('LIMITS');
  const end = header.indexOf('LAST USED');
  expect(start).toBeGreaterThan(0);
  const row = lines.find((l) => l.startsWith(`${name} `));
  expect(row, `a row for ${name}`).toBeDefined();
  return row!.slice(start, end).trim();
}

const TOTAL = 'total { requests rejected rateLimited }';
const KEY_USAGE = `query($id: ID!, $from: DateTime!) { node(id: $id) { ... on ApiKey { usage(from: $from) { ${TOTAL} } } } }`;
const DEPLOYMENT_USAGE = `query($id: ID!, $from: DateTime!) { node(id: $id) { ... on Deployment { usage(from: $from, granularity: MINUTE) { ${TOTAL} } } } }`;

it('keys create --rpm/--tpm, keys update --rpm N|none --tpm N|none, and the LIMITS column of keys list', { timeout: 180_000 }, async () => {
  const { slug } = await createProject(kg);
  const created = JSON.parse(await ok(['keys', 'create', 'limited-key', '--project', slug, '--rpm', '600', '--tpm', '200000', '--json']));
  expect(created.apiKey.rateLimit).toEqual({ requestsPerMinute: 600, tokensPerMinute: 200000 });
  const onlyRpm = JSON.parse(await ok(['keys', 'create', 'rpm-only-key', '--project', slug, '--rpm', '5', '--json']));
  expect(onlyRpm.apiKey.rateLimit).toEqual({ requestsPerMinute: 5, tokensPerMinute: null });
  const plain = JSON.parse(await ok(['keys', 'create', 'plain-key', '--project', slug, '--json']));
  expect(plain.apiKey.rateLimit).toBeNull();

  expect(await limitsColumn(slug, 'limited-key')).toBe('600 rpm, 200000 tpm');
  expect(await limitsColumn(slug, 'rpm-only-key')).toBe('5 rpm');
  expect(await limitsColumn(slug, 'plain-key')).toBe('-');
  const listed = JSON.parse(await ok(['keys', 'list', '--project', slug, '--json']));
  expect(listed.find((k: { name: string }) => k.name === 'limited-key').rateLimit).toEqual({ requestsPerMinute: 600, tokensPerMinute: 200000 });

  // update: a kind not named keeps its value; "none" removes that kind; both none: no limits at all.
  expect(await ok(['keys', 'update', 'limited-key', '--project', slug, '--rpm', '1200'])).toMatch(/^API key limited-key: 1200 rpm, 200000 tpm \(/);
  expect(await ok(['keys', 'update', 'limited-key', '--project', slug, '--tpm', 'none'])).toMatch(/^API key limited-key: 1200 rpm \(/);
  expect(await limitsColumn(slug, 'limited-key')).toBe('1200 rpm');
  expect(await ok(['keys', 'update', 'plain-key', '--project', slug, '--tpm', '1000'])).toMatch(/^API key plain-key: 1000 tpm \(/);
  expect(await limitsColumn(slug, 'plain-key')).toBe('1000 tpm');
  expect(await ok(['keys', 'update', 'limited-key', '--project', slug, '--rpm', 'none'])).toMatch(/^API key limited-key: - \(/);
  expect(await limitsColumn(slug, 'limited-key')).toBe('-');
  const after = JSON.parse(await ok(['keys', 'list', '--project', slug, '--json']));
  expect(after.find((k: { name: string }) => k.name === 'limited-key').rateLimit).toBeNull();
  // By id, with --json.
  const byId = JSON.parse(await ok(['keys', 'update', onlyRpm.apiKey.id, '--rpm', '7', '--tpm', '900', '--json']));
  expect(byId.apiKey.rateLimit).toEqual({ requestsPerMinute: 7, tokensPerMinute: 900 });

  // Mistakes: one line naming what to fix.
  const noChange = await keygate(['keys', 'update', 'plain-key', '--project', slug], cliEnv);
  expect(noChange).toMatchObject({ code: 1, stdout: '' });
  expect(noChange.stderr).toMatch(/--rpm and\/or --tpm/);
  const notNumber = await keygate(['keys', 'create', 'bad-key', '--project', slug, '--rpm', 'lots'], cliEnv);
  expect(notNumber).toMatchObject({ code: 1, stdout: '' });
  expect(notNumber.stderr).toMatch(/--rpm must be a whole number/);
  const zero = await keygate(['keys', 'update', 'plain-key', '--project', slug, '--tpm', '0'], cliEnv);
  expect(zero).toMatchObject({ code: 1, stdout: '' });
  expect(zero.stderr).toMatch(/rateLimit\.tokensPerMinute/);
  expect(await limitsColumn(slug, 'plain-key')).toBe('1000 tpm');
});

it('a 429 is counted as rateLimited in ApiKey.usage and Deployment.usage, and as a rate_limited refusal on /metrics', async () => {
  const project = await createProject(kg);
  const created = JSON.parse(await ok(['keys', 'create', 'metered-key', '--project', project.slug, '--rpm', '2', '--json']));
  const deployment = await createDeployment(kg, project.id, 'chat', { upstreamUrl: upstream.url, authEnabled: true, apiKeyIds: [created.apiKey.id] });
  const statusPort = kg.running.proxy!.statusPort;
  const refusals = () => metric(statusPort, 'keygate_proxy_refusals_total{reason="rate_limited"}');
  const refusedBefore = await refusals();
  const from = new Date(Date.now() - 3600_000).toISOString();

  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await call(kg.running.proxy!.port, project.slug, created.secret)).status);
  expect(statuses).toEqual([200, 200, 429, 429, 429]);
  expect((await refusals()) - refusedBefore).toBe(3);

  const expected = { requests: 2, rejected: 0, rateLimited: 3 };
  const keyTotal = async () => ((await kg.gql(KEY_USAGE, { id: created.apiKey.id, from })).data?.node as { usage: { total: unknown } }).usage.total;
  const deploymentTotal = async () => ((await kg.gql(DEPLOYMENT_USAGE, { id: deployment.id, from })).data?.node as { usage: { total: unknown } }).usage.total;
  expect(await within10s(keyTotal, expected)).toEqual(expected);
  expect(await within10s(deploymentTotal, expected)).toEqual(expected);
});
