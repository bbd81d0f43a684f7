// The `keygate` command: start | control-plane | proxy | migrate | token create | mock-upstream.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.ts';
import { NotMigratedError } from '../db/postgres-pool.ts';
import { DomainError } from '../domain/errors.ts';
import { type RunMode, StartupError, startKeygate } from '../server/app.ts';
import { createLogger } from '../server/logger.ts';

const USAGE = `usage: keygate <command>

  start                          control plane + proxy in one process
  control-plane                  the GraphQL API only (needs DATABASE_URL and REDIS_URL)
  proxy                          the data-plane proxy only (needs DATABASE_URL and REDIS_URL)
  migrate                        apply the committed migrations to DATABASE_URL
  token create [--project SLUG] [--name NAME]
                                 print a new access token (admin, or confined to a project)
  mock-upstream [--port N]       a small OpenAI-compatible model server for demos and tests

Configuration comes from the environment; see README.md.`;

function fail(message: string): never {
  process.stderr.write(`keygate: ${message}\n`);
  process.exit(1);
}

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel);

  switch (command) {
    case 'start':
    case 'control-plane':
    case 'proxy': {
      const running = await startKeygate(command as RunMode, config, log);
      if (running.controlPlane) {
        log.info({ url: running.controlPlane.url }, 'control plane listening');
        process.stdout.write(`Dashboard:   ${running.controlPlane.url.replace(/graphql$/, '')}\n`);
        if (config.introspection) process.stdout.write(`GraphiQL:    ${running.controlPlane.url}\n`);
      }
      if (running.proxy) {
        log.info({ port: running.proxy.port }, 'proxy listening');
        process.stdout.write(`Proxy:       http://${config.host}:${running.proxy.port} (deployments at model-<deployment>.<project>.${config.baseDomain} or /<project>/<deployment>/)\n`);
      }
      if (running.adminTokenFile) process.stdout.write(`Admin token: in ${running.adminTokenFile} (send it as Authorization: Bearer <token>)\n`);
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        running.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      return;
    }
    case 'migrate': {
      if (!config.databaseUrl) fail('migrate needs DATABASE_URL (the embedded store migrates itself at start)');
      // The ORM and the embedded store load only for the commands that use them (never in `keygate proxy`).
      const { migratePostgres } = await import('../db/database.ts');
      const applied = await migratePostgres(config.databaseUrl);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
      return;
    }
    case 'token': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { project: { type: 'string' }, name: { type: 'string' } },
      });
      if (positionals[0] !== 'create') fail(`unknown token command "${positionals[0] ?? ''}"\n${USAGE}`);
      const { openEmbedded, openPostgres } = await import('../db/database.ts');
      const { issueAccessToken } = await import('../domain/access-tokens.ts');
      const db = config.databaseUrl ? await openPostgres(config.databaseUrl) : await openEmbedded(config.dataDir);
      try {
        let projectId: string | null = null;
        if (values.project) {
          const project = await db.prisma.project.findUnique({ where: { slug: values.project.toLowerCase() } });
          if (!project) fail(`no project with slug "${values.project}"`);
          projectId = project.id;
        }
        const name = values.name ?? `${values.project ?? 'admin'}-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
        const { token } = await issueAccessToken(db.prisma, { name, projectId });
        process.stdout.write(`${token}\n`);
      } finally {
        await db.close();
      }
      return;
    }
    case 'mock-upstream': {
      const { values } = parseArgs({ args: rest, options: { port: { type: 'string' }, host: { type: 'string' } } });
      const { createMockUpstream } = await import('../dev/mock-upstream.ts');
      const host = values.host ?? config.host;
      const upstream = createMockUpstream({ host, port: Number(values.port ?? 9000) });
      const { port } = await upstream.start();
      process.stdout.write(`mock upstream: http://${host}:${port}/v1\n`);
      const stop = () => void upstream.stop().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      return;
    }
    default:
      fail(`unknown command "${command}"\n${USAGE}`);
  }
}

run(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof NotMigratedError || error instanceof StartupError || error instanceof DomainError) {
    fail(error.message);
  }
  process.stderr.write(`keygate: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
