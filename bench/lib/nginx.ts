// nginx as the non-Node reference proxy: the bench/nginx.conf template filled in and run from a
// temp dir with one worker, pinned like the other proxies; never the system service.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv, type Child, freePort, ROOT, startProcess, treeCpuSeconds, waitForHttp } from './procs.ts';

export interface Nginx extends Child {
  port: number;
  /** master and worker together */
  cpuSeconds(): number;
}

export async function startNginx(options: { binary: string; upstreamPort: number; cpu: string | null; dir: string; logDir: string }): Promise<Nginx> {
  const dir = join(options.dir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = readFileSync(join(ROOT, 'bench/nginx.conf'), 'utf8')
    .replaceAll('{{DIR}}', dir)
    .replaceAll('{{PORT}}', String(port))
    .replaceAll('{{UPSTREAM_PORT}}', String(options.upstreamPort));
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = startProcess({
    name: 'nginx',
    command: options.binary,
    args: ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')],
    cpu: options.cpu,
    env: baseEnv(),
    logDir: options.logDir,
  });
  await waitForHttp(`http://127.0.0.1:${port}/v1/models`, 200, 10_000);
  return Object.assign(child, { port, cpuSeconds: () => treeCpuSeconds(child.pid) });
}
