// Management commands over a running keygate's GraphQL API: projects and API keys (deployments,
// links and status have their own files). Human output by default, --json for scripts,
// -q for the one value a script captures (an id, a secret, an endpoint).
import type { Command } from 'commander';
import { describePropagation, nodeIdOf, projectIdOf, projectNodes, type Propagation, PROPAGATION_FIELDS } from './resolve.ts';
import { CliError, type Output, printJson, printTable, quiet, withApi, withJson } from './run.ts';

export function registerManagementCommands(program: Command): void {
  registerProjectCommands(program);
  registerKeyCommands(program);
}

const PROJECT_FIELDS = 'id slug name createdAt';
interface ProjectNode {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
}

function registerProjectCommands(program: Command): void {
  const projects = program.command('projects').description('list and create projects');
  withJson(projects.command('list').description('the projects this token reaches')).action(
    withApi(async (api, options: Output) => {
      const nodes: ProjectNode[] = [];
      for (let after: string | null = null; ; ) {
        type Page = { projects: { edges: { node: ProjectNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
        const { projects: page }: Page = await api.request<Page>(
          `query($after: String) { projects(first: 1000, after: $after) { edges { node { ${PROJECT_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
          { after },
        );
        nodes.push(...page.edges.map((edge) => edge.node));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      if (options.json) printJson(nodes);
      else printTable(nodes, [['slug', 'SLUG'], ['name', 'NAME'], ['createdAt', 'CREATED'], ['id', 'ID']]);
    }),
  );
  withJson(
    quiet(projects.command('create').description('create a project').argument('<slug>', 'DNS label, unique').option('--name <name>', 'display name (default: the slug)'), 'its id'),
  ).action(
    withApi(async (api, slug: string, options: Output & { name?: string }) => {
      const { createProject } = await api.request<{ createProject: { project: ProjectNode } }>(
        `mutation($input: CreateProjectInput!) { createProject(input: $input) { project { ${PROJECT_FIELDS} } } }`,
        { input: { slug, name: options.name } },
      );
      const { project } = createProject;
      if (options.json) printJson(project);
      else if (options.quiet) process.stdout.write(`${project.id}\n`);
      else process.stdout.write(`created project ${project.slug} (id ${project.id})\n`);
    }),
  );
}

const KEY_FIELDS = 'id name description prefix expiresAt expired createdAt lastUsedAt rateLimit { requestsPerMinute tokensPerMinute }';
interface KeyNode {
  id: string;
  name: string;
  prefix: string;
  expiresAt: string | null;
  expired: boolean;
  lastUsedAt: string | null;
  deployments?: { name: string }[];
  previousPrefix?: string | null;
  previousSecretExpiresAt?: string | null;
  rateLimit?: { requestsPerMinute: number | null; tokensPerMinute: number | null } | null;
}

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds from "3600", "90s", "30m", "1h" or "7d"; the server checks the range. */
function parseDuration(value: string, option: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new CliError(`${option} must be a number of seconds or a duration like 90s, 30m, 1h, 7d`);
  return Number(match[1]) * DURATION_UNITS[match[2]!]!;
}

/** A --rpm / --tpm value: a whole number, or "none" (no limit of that kind). */
function limitOption(flag: string, value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new CliError(`${flag} must be a whole number (1–10000000) or "none"`);
  return n;
}

/** "600 rpm, 200000 tpm", or "-" for a key without limits. */
const describeLimits = (l: KeyNode['rateLimit']) =>
  [l?.requestsPerMinute != null ? `${l.requestsPerMinute} rpm` : '', l?.tokensPerMinute != null ? `${l.tokensPerMinute} tpm` : ''].filter(Boolean).join(', ') || '-';

function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('API keys of a project: create, list, update limits, rotate, delete');
  withJson(
    quiet(
      keys
        .command('create')
        .description('create an API key; its secret is printed once and never again')
        .argument('<name>', 'unique in its project, 4–63 characters')
        .requiredOption('--project <slug>', 'the project')
        .option('--description <text>', 'what the key is for')
        .option('--expires-at <date>', 'ISO-8601 date-time in the future (default: never expires)')
        .option('--rpm <n>', 'rate limit: requests per minute, across every proxy (default: none)')
        .option('--tpm <n>', 'rate limit: tokens per minute, across every proxy (default: none)'),
      'the secret',
    ),
  ).action(
    withApi(async (api, name: string, options: Output & { project: string; description?: string; expiresAt?: string; rpm?: string; tpm?: string }) => {
      const requestsPerMinute = limitOption('--rpm', options.rpm) ?? null;
      const tokensPerMinute = limitOption('--tpm', options.tpm) ?? null;
      const rateLimit = requestsPerMinute === null && tokensPerMinute === null ? undefined : { requestsPerMinute, tokensPerMinute };
      const projectId = await projectIdOf(api, options.project);
      const { createApiKey } = await api.request<{ createApiKey: { apiKey: KeyNode; secret: string; propagation: Propagation } }>(
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { ${KEY_FIELDS} } ${PROPAGATION_FIELDS} } }`,
        { input: { projectId, name, description: options.description, expiresAt: options.expiresAt, rateLimit } },
      );
      printSecret(createApiKey, options, `created API key ${createApiKey.apiKey.name} in ${options.project}`);
    }),
  );
  withJson(keys.command('list').description("a project's API keys and the deployments each opens").requiredOption('--project <slug>', 'the project')).action(
    withApi(async (api, options: Output & { project: string }) => {
      const nodes = await projectNodes<KeyNode>(api, options.project, 'apiKeys', `${KEY_FIELDS} deployments { name }`);
      if (options.json) return printJson(nodes);
      printTable(
        nodes.map((key) => ({
          ...key,
          expires: key.expired ? 'expired' : (key.expiresAt ?? 'never'),
          deployments: key.deployments?.map((d) => d.name).join(',') ?? '',
          limits: describeLimits(key.rateLimit),
        })),
        [['name', 'NAME'], ['prefix', 'PREFIX'], ['expires', 'EXPIRES'], ['limits', 'LIMITS'], ['lastUsedAt', 'LAST USED'], ['deployments', 'DEPLOYMENTS'], ['id', 'ID']],
      );
    }),
  );
  withJson(
    keys
      .command('update')
      .description("change a key's rate limits; a limit not given stays as it is")
      .argument('<key>', 'the key: its id, or its name with --project')
      .option('--project <slug>', 'the project, to find the key by name')
      .option('--rpm <n>', 'requests per minute, or "none" to remove that limit')
      .option('--tpm <n>', 'tokens per minute, or "none" to remove that limit'),
  ).action(
    withApi(async (api, ref: string, options: Output & { project?: string; rpm?: string; tpm?: string }) => {
      const rpm = limitOption('--rpm', options.rpm);
      const tpm = limitOption('--tpm', options.tpm);
      if (rpm === undefined && tpm === undefined) throw new CliError('nothing to change: give --rpm and/or --tpm');
      const id = await nodeIdOf(api, 'apiKeys', ref, options.project);
      const { node } = await api.request<{ node: KeyNode | null }>(`query($id: ID!) { node(id: $id) { ... on ApiKey { ${KEY_FIELDS} } } }`, { id });
      if (!node) throw new CliError(`no API key with id ${id}`);
      const requestsPerMinute = rpm === undefined ? (node.rateLimit?.requestsPerMinute ?? null) : rpm;
      const tokensPerMinute = tpm === undefined ? (node.rateLimit?.tokensPerMinute ?? null) : tpm;
      const rateLimit = requestsPerMinute === null && tokensPerMinute === null ? null : { requestsPerMinute, tokensPerMinute };
      const { updateApiKey } = await api.request<{ updateApiKey: { apiKey: KeyNode; propagation: Propagation } }>(
        `mutation($input: UpdateApiKeyInput!) { updateApiKey(input: $input) { apiKey { ${KEY_FIELDS} } ${PROPAGATION_FIELDS} } }`,
        { input: { id, rateLimit } },
      );
      if (options.json) return printJson(updateApiKey);
      process.stdout.write(`API key ${updateApiKey.apiKey.name}: ${describeLimits(updateApiKey.apiKey.rateLimit)} (${describePropagation(updateApiKey.propagation)})\n`);
    }),
  );
  withJson(
    quiet(
      keys
        .command('rotate')
        .description('give a key a new secret; links, name and usage stay')
        .argument('<key>', 'the key: its id, or its name with --project')
        .option('--project <slug>', 'the project, to find the key by name')
        .option('--overlap <duration>', 'how long the current secret keeps working: seconds, or 90s, 30m, 1h, 7d (at most 30d)', '0'),
      'the new secret',
    ),
  ).action(
    withApi(async (api, ref: string, options: Output & { project?: string; overlap: string }) => {
      const overlapSeconds = parseDuration(options.overlap, '--overlap');
      const id = await nodeIdOf(api, 'apiKeys', ref, options.project);
      const { rotateApiKey } = await api
        .request<{ rotateApiKey: { apiKey: KeyNode; secret: string; propagation: Propagation } }>(
          `mutation($input: RotateApiKeyInput!) { rotateApiKey(input: $input) { secret apiKey { ${KEY_FIELDS} previousPrefix previousSecretExpiresAt } ${PROPAGATION_FIELDS} } }`,
          { input: { id, overlapSeconds } },
        )
        .catch((error: unknown) => {
          // A server without key rotation fails validation on the mutation itself.
          if (/GRAPHQL_VALIDATION_FAILED/.test((error as Error).message) && /rotateApiKey|RotateApiKeyInput/.test((error as Error).message)) {
            throw new CliError(`the keygate at ${api.url} does not support key rotation (its API has no rotateApiKey): upgrade it`);
          }
          throw error;
        });
      const { previousPrefix, previousSecretExpiresAt } = rotateApiKey.apiKey;
      const previous = previousPrefix ? `the previous secret (${previousPrefix}…) works until ${previousSecretExpiresAt}` : 'the previous secret no longer works';
      printSecret(rotateApiKey, options, `rotated API key ${rotateApiKey.apiKey.name}`, previous);
    }),
  );
  withJson(
    keys
      .command('delete')
      .description('delete an API key')
      .argument('<key>', 'the key: its id, or its name with --project')
      .option('--project <slug>', 'the project, to find the key by name')
      .option('--force', 'unlink it from its deployments in the same change (a linked key is otherwise refused)'),
  ).action(
    withApi(async (api, ref: string, options: Output & { project?: string; force?: boolean }) => {
      const id = await nodeIdOf(api, 'apiKeys', ref, options.project);
      const { deleteApiKey } = await api
        .request<{ deleteApiKey: { deletedApiKeyId: string; propagation: Propagation } }>(
          `mutation($input: DeleteApiKeyInput!) { deleteApiKey(input: $input) { deletedApiKeyId ${PROPAGATION_FIELDS} } }`,
          { input: { id, force: options.force ?? false } },
        )
        .catch((error: unknown) => {
          if (!options.force && /\(CONFLICT, force\)$/.test((error as Error).message)) {
            throw new CliError(`${(error as Error).message}\nkeygate keys delete --force unlinks it and deletes it in one change`);
          }
          throw error;
        });
      if (options.json) printJson(deleteApiKey);
      else process.stdout.write(`deleted API key ${ref} (${describePropagation(deleteApiKey.propagation)})\n`);
    }),
  );
}

/** A new secret: printed once; with --json nothing but the JSON, with -q nothing but the secret. */
function printSecret(result: { apiKey: KeyNode; secret: string; propagation: Propagation }, options: Output, headline: string, note?: string): void {
  if (options.json) return printJson(result);
  if (options.quiet) return void process.stdout.write(`${result.secret}\n`);
  process.stdout.write(
    `${headline} (id ${result.apiKey.id}, prefix ${result.apiKey.prefix}; ${describePropagation(result.propagation)})\n` +
      (note ? `${note}\n` : '') +
      `secret, shown once and never again:\n${result.secret}\n`,
  );
}
