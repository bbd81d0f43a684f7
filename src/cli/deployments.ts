// `keygate deployments create|list`, `keygate link` and `keygate unlink`, over the GraphQL API.
import type { Command } from 'commander';
import { describePropagation, nodeIdOf, projectIdOf, projectNodes, type Propagation, PROPAGATION_FIELDS } from './resolve.ts';
import { type Output, printJson, printTable, quiet, withApi, withJson } from './run.ts';

const DEPLOYMENT_FIELDS = 'id name model upstreamUrl endpointUrl authEnabled createdAt apiKeys { name }';
interface DeploymentNode {
  id: string;
  name: string;
  model: string;
  upstreamUrl: string;
  endpointUrl: string;
  authEnabled: boolean;
  apiKeys: { name: string }[];
}

const collect = (value: string, previous: string[]) => [...previous, value];
const keyNames = (d: DeploymentNode) => d.apiKeys.map((k) => k.name).join(',');

export function registerDeploymentCommands(program: Command): void {
  const deployments = program.command('deployments').description("a project's model deployments: create, list");
  withJson(
    quiet(
      deployments
        .command('create')
        .description('create a deployment in front of a model server; API key authentication is on unless --no-auth')
        .argument('<name>', 'DNS label, unique in its project')
        .requiredOption('--project <slug>', 'the project')
        .requiredOption('--model <model>', 'the model it serves, e.g. llama-3-8b')
        .requiredOption('--upstream <url>', 'the OpenAI-compatible server requests go to, e.g. http://127.0.0.1:9000')
        .option('--key <key>', 'link this API key (id, or name in the project); repeat for more', collect, [])
        .option('--no-auth', 'leave the deployment open: no API key needed'),
      'its endpoint URL',
    ),
  ).action(
    withApi(async (api, name: string, options: Output & { project: string; model: string; upstream: string; key: string[]; auth: boolean }) => {
      const projectId = await projectIdOf(api, options.project);
      const apiKeyIds = [];
      for (const key of options.key) apiKeyIds.push(await nodeIdOf(api, 'apiKeys', key, options.project));
      const { createDeployment } = await api.request<{ createDeployment: { deployment: DeploymentNode; propagation: Propagation } }>(
        `mutation($input: CreateDeploymentInput!) { createDeployment(input: $input) { deployment { ${DEPLOYMENT_FIELDS} } ${PROPAGATION_FIELDS} } }`,
        { input: { projectId, name, model: options.model, upstreamUrl: options.upstream, authEnabled: options.auth, apiKeyIds } },
      );
      const { deployment, propagation } = createDeployment;
      if (options.json) return printJson(createDeployment);
      if (options.quiet) return void process.stdout.write(`${deployment.endpointUrl}\n`);
      const auth = deployment.authEnabled ? `API key authentication on, keys: ${keyNames(deployment) || 'none yet'}` : 'open: no API key needed';
      process.stdout.write(
        `created deployment ${deployment.name} in ${options.project} (id ${deployment.id}; ${auth}; ${describePropagation(propagation)})\n` +
          `endpoint: ${deployment.endpointUrl}  (or http://<proxy>/${options.project}/${deployment.name}/ where *.localhost does not resolve)\n`,
      );
    }),
  );
  withJson(deployments.command('list').description("a project's deployments").requiredOption('--project <slug>', 'the project')).action(
    withApi(async (api, options: Output & { project: string }) => {
      const nodes = await projectNodes<DeploymentNode>(api, options.project, 'deployments', DEPLOYMENT_FIELDS);
      if (options.json) return printJson(nodes);
      printTable(
        nodes.map((d) => ({ ...d, auth: d.authEnabled ? 'on' : 'off', keys: keyNames(d) })),
        [['name', 'NAME'], ['model', 'MODEL'], ['auth', 'AUTH'], ['keys', 'KEYS'], ['endpointUrl', 'ENDPOINT'], ['upstreamUrl', 'UPSTREAM'], ['id', 'ID']],
      );
    }),
  );

  for (const [verb, mutation] of [
    ['link', 'linkApiKey'],
    ['unlink', 'unlinkApiKey'],
  ] as const) {
    withJson(
      program
        .command(verb)
        .description(verb === 'link' ? 'let an API key call a deployment' : 'stop an API key from calling a deployment')
        .argument('<deployment>', 'the deployment: its id, or its name with --project')
        .argument('<key>', 'the API key: its id, or its name with --project')
        .option('--project <slug>', 'the project, to find the deployment and key by name'),
    ).action(
      withApi(async (api, deploymentRef: string, keyRef: string, options: Output & { project?: string }) => {
        const deploymentId = await nodeIdOf(api, 'deployments', deploymentRef, options.project);
        const apiKeyId = await nodeIdOf(api, 'apiKeys', keyRef, options.project);
        type Result = { deployment: { name: string }; apiKey: { name: string }; propagation: Propagation };
        const data = await api.request<Record<string, Result>>(
          `mutation($input: ${mutation === 'linkApiKey' ? 'LinkApiKeyInput' : 'UnlinkApiKeyInput'}!) { ${mutation}(input: $input) { deployment { name } apiKey { name } ${PROPAGATION_FIELDS} } }`,
          { input: { deploymentId, apiKeyId } },
        );
        const result = data[mutation]!;
        if (options.json) return printJson(result);
        const what = verb === 'link' ? `linked API key ${result.apiKey.name} to` : `unlinked API key ${result.apiKey.name} from`;
        process.stdout.write(`${what} deployment ${result.deployment.name} (${describePropagation(result.propagation)})\n`);
      }),
    );
  }
}
