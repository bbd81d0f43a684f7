// `keygate status`: is the control plane up and ready, which revision it has applied, how many
// proxies hold a live lease, and who the token is. Read from /healthz, /readyz, /metrics and the
// API's viewer; exits 1 when the control plane is not ready.
import type { Command } from 'commander';
import { type Output, printJson, withApi, withJson } from './run.ts';

/** The value of an unlabelled metric in Prometheus text, or null when absent. */
export function metricValue(text: string, name: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1).trim().split(' ')[0]) : null;
}

export function registerStatusCommand(program: Command): void {
  withJson(program.command('status').description('health, readiness, applied revision and live proxies of the running keygate')).action(
    withApi(async (api, options: Output) => {
      const [health, ready, metrics] = await Promise.all([api.get('/healthz'), api.get('/readyz'), api.get('/metrics')]);
      const { viewer } = await api.request<{ viewer: { role: string; tokenName: string; project: { slug: string } | null } }>(
        '{ viewer { role tokenName project { slug } } }',
      );
      const status = {
        url: api.url,
        healthy: health.status === 200,
        ready: ready.status === 200,
        revision: metricValue(metrics.text, 'keygate_control_plane_applied_revision'),
        liveProxies: metricValue(metrics.text, 'keygate_live_proxies'),
        viewer: { role: viewer.role, tokenName: viewer.tokenName, project: viewer.project?.slug ?? null },
      };
      if (options.json) printJson(status);
      else {
        const token = `${status.viewer.role.toLowerCase()} token "${status.viewer.tokenName}"${status.viewer.project ? ` of ${status.viewer.project}` : ''}`;
        process.stdout.write(
          `keygate at ${status.url}\n` +
            `  health:       ${status.healthy ? 'ok' : `failing (${health.status})`}\n` +
            `  ready:        ${status.ready ? 'yes' : `no (${ready.status})`}\n` +
            `  revision:     ${status.revision ?? 'unknown'}\n` +
            `  live proxies: ${status.liveProxies ?? 'unknown'}\n` +
            `  signed in as: ${token}\n`,
        );
      }
      if (!status.healthy || !status.ready) process.exitCode = 1;
    }),
  );
}
