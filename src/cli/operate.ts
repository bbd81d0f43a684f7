// Operator commands: `migrate`, `token create` and `mock-upstream`.
import type { Command } from 'commander';
import type { Config } from '../config/config.ts';
import { action, CliError, loadCliConfig, parsePort, printJson, withJson } from './run.ts';

export function registerOperatorCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply the committed migrations to DATABASE_URL (the embedded store migrates itself at start)')
    .action(
      action(async () => {
        const config = await loadCliConfig();
        if (!config.databaseUrl) throw new CliError('migrate needs DATABASE_URL (the embedded store migrates itself at start)');
        const { migratePostgres } = await import('../db/database.ts');
        const applied = await migratePostgres(config.databaseUrl);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
      }),
    );

  const token = program.command('token').description('access tokens of the control plane');
  withJson(
    token
      .command('create')
      .description(
        'print a new access token: an admin token, or with --project one confined to that project. Goes through the running ' +
          'keygate when one holds the embedded store (or KEYGATE_URL / KEYGATE_TOKEN are set); with DATABASE_URL and no KEYGATE_URL, writes to Postgres directly',
      )
      .option('--project <slug>', 'confine the token to this project')
      .option('--name <name>', 'the token\'s name (default: <project or "admin">-<time>)'),
  ).action(
    action(async (options: { project?: string; name?: string; json?: boolean }) => {
      const config = await loadCliConfig();
      const name = options.name ?? `${options.project ?? 'admin'}-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 17)}`;
      const created = await createToken(config, name, options.project?.toLowerCase());
      if (options.json) printJson({ ...created, name, project: options.project ?? null });
      else process.stdout.write(`${created.token}\n`);
    }),
  );

  program
    .command('mock-upstream')
    .description('a small OpenAI-compatible model server (chat completions, streaming, models) for demos and tests')
    .option('--port <port>', 'port to listen on', parsePort, '9000')
    .option('--host <address>', 'address to bind (default: KEYGATE_HOST, 127.0.0.1)')
    .action(
      action(async (options: { port: string; host?: string }) => {
        const host = options.host ?? (await loadCliConfig()).host;
        const { createMockUpstream } = await import('../dev/mock-upstream.ts');
        const upstream = createMockUpstream({ host, port: Number(options.port) });
        const { port } = await upstream.start().catch((error: NodeJS.ErrnoException) => {
          throw error.code === 'EADDRINUSE' ? new CliError(`port ${options.port} on ${host} is already in use: choose another with --port`) : error;
        });
        process.stdout.write(`mock upstream: http://${host}:${port}/v1\n`);
        const stop = () => void upstream.stop().then(() => process.exit(0));
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      }),
    );
}

/**
 * Through the API when a server is named (KEYGATE_URL / KEYGATE_TOKEN) or holds the embedded
 * store; otherwise straight into the database: Postgres (how the first token of a distributed
 * setup is made), or the embedded store while no keygate runs on it, under its lock.
 */
async function createToken(config: Config, name: string, project: string | undefined): Promise<{ token: string; id: string }> {
  if (config.api.url || config.api.token) return createTokenThroughApi(config, name, project);
  const { openEmbedded, openPostgres } = await import('../db/database.ts');
  let db;
  if (config.databaseUrl) {
    db = await openPostgres(config.databaseUrl);
  } else {
    try {
      db = await openEmbedded(config.dataDir);
    } catch (error) {
      if ((error as Error).name !== 'DataDirLockedError') throw error;
      return createTokenThroughApi(config, name, project).catch((apiError: unknown) => {
        throw new CliError(`${(apiError as Error).message}\n(a keygate holds ${config.dataDir}, so the token must be made through its API: ${(error as Error).message})`);
      });
    }
  }
  try {
    let projectId: string | null = null;
    if (project) {
      const found = await db.prisma.project.findUnique({ where: { slug: project }, select: { id: true } });
      if (!found) throw new CliError(`no project with slug "${project}"`);
      projectId = found.id;
    }
    const { issueAccessToken } = await import('../domain/access-tokens.ts');
    const { globalId } = await import('../graphql/ids.ts');
    const issued = await issueAccessToken(db.prisma, { name, projectId });
    return { token: issued.token, id: globalId('AccessToken', issued.id) };
  } finally {
    await db.close();
  }
}

async function createTokenThroughApi(config: Config, name: string, project: string | undefined): Promise<{ token: string; id: string }> {
  const { connectApi } = await import('./api.ts');
  const { projectIdOf } = await import('./resolve.ts');
  const api = await connectApi(config);
  const projectId = project ? await projectIdOf(api, project) : null;
  const { createAccessToken } = await api.request<{ createAccessToken: { token: string; id: string } }>(
    'mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { token id } }',
    { input: { name, projectId } },
  );
  return createAccessToken;
}
