// keygate's entry: checks the run mode's requirements and starts that mode's composition root.
// Each root is imported only when its mode runs, so a proxy process never loads the ORM or the
// embedded store that the other modes need.
import type { Config } from '../config/config.ts';
import type { DatabaseOptions } from '../db/database.ts';
import type { Logger } from './logger.ts';
import { checkRunMode, type KeygateTuning, type RunMode, type RunningKeygate } from './run-modes.ts';

export { StartupError, checkRunMode } from './run-modes.ts';
export type { KeygateTuning, RunMode, RunningKeygate } from './run-modes.ts';

export async function startKeygate(
  mode: RunMode,
  config: Config,
  log: Logger,
  databaseOptions: DatabaseOptions = {},
  tuning: KeygateTuning = {},
): Promise<RunningKeygate> {
  checkRunMode(mode, config);
  switch (mode) {
    case 'start':
      return (await import('./start-mode.ts')).startAll(config, log, databaseOptions, tuning);
    case 'control-plane':
      return (await import('./control-plane-mode.ts')).startControlPlaneMode(config, log, databaseOptions, tuning);
    case 'proxy':
      return (await import('./proxy-mode.ts')).startProxyMode(config, log, tuning);
  }
}
