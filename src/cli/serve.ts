// `keygate start | control-plane | proxy`: the long-running modes. Flags override the variables
// they name; a port already in use names the flag and the variable that change it.
import type { Command } from 'commander';
import type { Config } from '../config/config.ts';
import { action, CliError, loadCliConfig, parsePort } from './run.ts';

type Mode = 'start' | 'control-plane' | 'proxy';

interface ServeFlags {
  port?: string;
  proxyPort?: string;
  dataDir?: string;
  host?: string;
}

const MODES: { mode: Mode; description: string; flags: (keyof ServeFlags)[] }[] = [
  {
    mode: 'start',
    description: 'control plane + proxy in one process; embedded store and in-process feed unless DATABASE_URL / REDIS_URL are set',
    flags: ['port', 'proxyPort', 'dataDir', 'host'],
  },
  { mode: 'control-plane', description: 'the GraphQL API only (needs DATABASE_URL and REDIS_URL)', flags: ['port', 'dataDir', 'host'] },
  { mode: 'proxy', description: 'the data-plane proxy only (needs DATABASE_URL and REDIS_URL)', flags: ['proxyPort', 'host'] },
];

const FLAGS: Record<keyof ServeFlags, { flag: string; variable: string; help: string; parse?: (v: string) => string }> = {
  port: { flag: '--port <port>', variable: 'KEYGATE_PORT', help: 'control plane port (/graphql, dashboard)', parse: parsePort },
  proxyPort: { flag: '--proxy-port <port>', variable: 'KEYGATE_PROXY_PORT', help: 'data-plane proxy port', parse: parsePort },
  dataDir: { flag: '--data-dir <dir>', variable: 'KEYGATE_DATA_DIR', help: 'embedded store and generated admin token' },
  host: { flag: '--host <address>', variable: 'KEYGATE_HOST', help: 'bind address of the servers' },
};

export function registerServeCommands(program: Command): void {
  for (const { mode, description, flags } of MODES) {
    const command = program.command(mode).description(description);
    for (const key of flags) {
      const { flag, variable, help, parse } = FLAGS[key];
      const option = `${help} (overrides ${variable})`;
      if (parse) command.option(flag, option, parse);
      else command.option(flag, option);
    }
    command.action(action((flags: ServeFlags) => serve(mode, flags)));
  }
}

/** Which flag and variable set the port a server could not bind. */
function portSetting(config: Config, port: number): string {
  if (port === config.port) return "the control plane's port: choose another with --port or KEYGATE_PORT";
  if (port === config.proxyPort) return "the proxy's port: choose another with --proxy-port or KEYGATE_PROXY_PORT";
  return 'one of keygate\'s ports: see "Configuration" in README.md';
}

async function serve(mode: Mode, flags: ServeFlags): Promise<void> {
  if (mode !== 'control-plane') (await import('../runtime/v8-flags.ts')).tuneV8ForProxy();
  const overrides = Object.fromEntries(Object.entries(flags).map(([key, value]) => [FLAGS[key as keyof ServeFlags].variable, value]));
  const config = await loadCliConfig(overrides);
  const { createLogger, terminalDestination } = await import('../server/logger.ts');
  const log = createLogger(config.logLevel, await terminalDestination());
  const { StartupError, startKeygate } = await import('../server/app.ts');

  let running;
  try {
    running = await startKeygate(mode, config, log);
  } catch (error) {
    const { code, port, address } = error as NodeJS.ErrnoException & { port?: number; address?: string };
    if (code === 'EADDRINUSE' && port !== undefined) {
      throw new CliError(`port ${port} on ${address ?? config.host} is already in use; it is ${portSetting(config, port)}`);
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new CliError(`cannot bind to ${config.host}: ${(error as Error).message} (set --host or KEYGATE_HOST)`);
    }
    if (error instanceof StartupError) throw new CliError(error.message);
    throw error;
  }

  if (running.controlPlane) {
    log.info({ url: running.controlPlane.url }, 'control plane listening');
    process.stdout.write(`Dashboard:   ${running.controlPlane.url.replace(/graphql$/, '')}\n`);
    if (config.introspection) process.stdout.write(`GraphiQL:    ${running.controlPlane.url}\n`);
  }
  if (running.proxy) {
    process.stdout.write(
      `Proxy:       http://${config.host}:${running.proxy.port} (deployments at model-<deployment>.<project>.${config.baseDomain} or /<project>/<deployment>/)\n`,
    );
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
}
