// What every run mode's composition root answers, the knobs tests turn, and the run modes'
// requirements on the configuration.
import type { Config } from '../config/config.ts';
import type { Feed } from '../feed/feed.ts';
import type { AuthTable } from '../proxy/auth-table.ts';
import type { ProxyServerConfig } from '../proxy/proxy-server.ts';
import type { ControlPlaneTuning, RunningControlPlane } from './control-plane.ts';

export type RunMode = 'start' | 'control-plane' | 'proxy';

export interface RunningKeygate {
  feed: Feed;
  controlPlane?: Omit<RunningControlPlane, 'stop' | 'adminTokenFile'>;
  /** statusPort: the proxy's status listener (/metrics) */
  proxy?: { port: number; statusPort: number; proxyId: string; table: AuthTable };
  adminTokenFile?: string;
  stop(): Promise<void>;
}

export class StartupError extends Error {}

/** Knobs that tests turn (short timeouts, small queues); no configuration variable sets them. */
export interface KeygateTuning extends ControlPlaneTuning {
  /** the proxy's client-side timeouts */
  proxyClient?: ProxyServerConfig['client'];
}

/** The run mode's requirements on DATABASE_URL and REDIS_URL (DESIGN.md "Run modes"). */
export function checkRunMode(mode: RunMode, config: Config): void {
  if (mode !== 'start' && (!config.databaseUrl || !config.redisUrl)) {
    throw new StartupError(`keygate ${mode} needs DATABASE_URL and REDIS_URL: it runs as one of several replicas sharing Postgres and Redis`);
  }
}
