// The `keygate` command, on commander. Only commander and the command definitions load here: every
// command's action imports what it needs when it runs, so `--help` and `--version` (answered by
// commander before any action) bind no port, create no directory and open no database.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerDeploymentCommands } from './deployments.ts';
import { registerEventsCommand } from './events.ts';
import { registerManagementCommands } from './manage.ts';
import { registerOperatorCommands } from './operate.ts';
import { CliError } from './run.ts';
import { registerServeCommands } from './serve.ts';
import { registerStatusCommand } from './status.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('keygate')
  .description('API-key authentication in front of model inference endpoints: a GraphQL control plane and a data-plane proxy')
  .version(version, '-v, --version', 'print the version')
  .helpCommand('help [command]', 'show the help of a command')
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText(
    'after',
    '\nConfiguration comes from the environment (README.md, "Configuration"); flags win over variables.\n' +
      'Management commands talk to a running keygate: KEYGATE_URL (default http://127.0.0.1:$KEYGATE_PORT),\n' +
      'KEYGATE_TOKEN (default: KEYGATE_ADMIN_TOKEN, then the admin-token file in KEYGATE_DATA_DIR).',
  );

registerServeCommands(program);
registerOperatorCommands(program);
registerManagementCommands(program);
registerDeploymentCommands(program);
registerEventsCommand(program);
registerStatusCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`keygate: ${error.message}\n`);
  } else {
    process.stderr.write(`keygate: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  // Exit now: a failed start may leave a handle (a reconnecting client) that would keep it alive.
  process.exit(1);
}
