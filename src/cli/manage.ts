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

const KEY_FIELDS = 'id name description prefix expiresAt expired createdAt lastUsedAt';
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
}

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds from "3600", "90s", "30m", "1h" or "7d"; the server checks the range. */
function parseDuration(value: string, option: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new CliError(`${option} must be a number of seconds or a duration like 90s, 30m, 1h, 7d`);
  return Number(match[1]) * DURATION_UNITS[match[2]!]!;
}

function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('API keys of a project: create, list, rotate, delete');
  withJson(
    quiet(
      keys
        .command('create')
        .description('create an API key; its secret is printed once and never again')
        .argument('<name>', 'unique in its project, 4–63 characters')
        .requiredOption('--project <slug>', 'the project')
        .option('--description <text>', 'what the key is for')
        .option('--expires-at <date>', 'ISO-8601 date-time in the future (default: never expires)'),
      'the secret',
    ),
  ).action(
    withApi(async (api, name: string, options: Output & { project: string; description?: string; expiresAt?: string }) => {
      const projectId = await projectIdOf(api, options.project);
      const { createApiKey } = await api.request<{ createApiKey: { apiKey: KeyNode; secret: string; propagation: Propagation } }>(
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { ${KEY_FIELDS} } ${PROPAGATION_FIELDS} } }`,
        { input: { projectId, name, description: options.description, expiresAt: options.expiresAt } },
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
        })),
        [['name', 'NAME'], ['prefix', 'PREFIX'], ['expires', 'EXPIRES'], ['lastUsedAt', 'LAST USED'], ['deployments', 'DEPLOYMENTS'], ['id', 'ID']],
      );
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
