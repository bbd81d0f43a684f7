// `keygate events`: a project's audit trail (Project.events), newest first, narrowed by type,
// actor, key and deployment.
import type { Command } from 'commander';
import { nodeIdOf, projectIdOf } from './resolve.ts';
import { CliError, type Output, printJson, printTable, withApi, withJson } from './run.ts';

interface EventNode {
  revision: number;
  type: string;
  at: string;
  actor: string | null;
  apiKeyId: string | null;
  deploymentId: string | null;
  apiKey: { name: string } | null;
  deployment: { name: string } | null;
}

interface EventsOptions extends Output {
  project: string;
  type?: string[];
  actor?: string;
  key?: string;
  deployment?: string;
  limit: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((v) => v.trim().toUpperCase()).filter(Boolean)];

export function registerEventsCommand(program: Command): void {
  withJson(
    program
      .command('events')
      .description("a project's audit trail: who changed what, and when, newest first")
      .requiredOption('--project <slug>', 'the project')
      .option('--type <type>', 'only events of this type (API_KEY_ROTATED, API_KEY_LINKED, …); repeat or comma-separate for several', collect)
      .option('--actor <name>', 'only changes made with this access token (by name)')
      .option('--key <key>', 'only events about this API key: its id or its name')
      .option('--deployment <deployment>', 'only events about this deployment: its id or its name')
      .option('--limit <n>', 'how many events, 1–1000', '50'),
  ).action(
    withApi(async (api, options: EventsOptions) => {
      const first = Number(options.limit);
      if (!Number.isInteger(first) || first < 1 || first > 1000) throw new CliError('--limit must be a whole number from 1 to 1000');
      await projectIdOf(api, options.project); // a clear message for an unknown project
      const apiKeyId = options.key ? await nodeIdOf(api, 'apiKeys', options.key, options.project) : undefined;
      const deploymentId = options.deployment ? await nodeIdOf(api, 'deployments', options.deployment, options.project) : undefined;
      type Page = { project: { events: { edges: { node: EventNode }[] } } | null };
      const { project } = await api.request<Page>(
        `query($slug: String!, $first: Int, $types: [ProjectEventType!], $actor: String, $apiKeyId: ID, $deploymentId: ID) {
          project(slug: $slug) { events(first: $first, types: $types, actor: $actor, apiKeyId: $apiKeyId, deploymentId: $deploymentId) {
            edges { node { revision type at actor apiKeyId deploymentId apiKey { name } deployment { name } } } } } }`,
        { slug: options.project, first, types: options.type, actor: options.actor, apiKeyId, deploymentId },
      );
      const events = project?.events.edges.map((edge) => edge.node) ?? [];
      if (options.json) return printJson(events);
      printTable(
        events.map((e) => ({
          ...e,
          actor: e.actor ?? '(keygate)',
          key: e.apiKey?.name ?? (e.apiKeyId ? '(deleted)' : ''),
          deploymentName: e.deployment?.name ?? (e.deploymentId ? '(deleted)' : ''),
        })),
        [['at', 'AT'], ['type', 'TYPE'], ['actor', 'ACTOR'], ['key', 'KEY'], ['deploymentName', 'DEPLOYMENT'], ['revision', 'REVISION']],
      );
    }),
  );
}
