// The README's quick start, run as written: its marked shell blocks are taken from README.md (so
// the README cannot drift from what works) and run in bash against a fresh data directory. The
// blocks marked `background` are the terminals that keep running (keygate, the model server); the
// others run in order in one shell, as pasted into one terminal. Only the environment differs from
// a new user's: keygate's ports and data directory come from the variables the README documents,
// and the model server's port (the user's own server, named in the commands) is swapped for a free one.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, freePort } from '../helpers/cli.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const MODEL_PORT = '9000';

export function quickStartBlocks(readme: string): { background: boolean; script: string }[] {
  const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
  return [...quick.matchAll(/<!-- quick-start(: background)? -->\n```sh\n([\s\S]*?)```/g)].map((m) => ({ background: Boolean(m[1]), script: m[2]! }));
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function waitFor(url: string, timeoutMs = 300_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await fetch(url).catch(() => null))?.status === 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 in time`);
}

describe('README quick start', { timeout: 900_000 }, () => {
  it('runs as pasted: a 401 without the key and a 200 with it, through the CLI and through GraphQL', async () => {
    const blocks = quickStartBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.filter((b) => b.background)).toHaveLength(2);
    expect(blocks.filter((b) => !b.background).length).toBeGreaterThanOrEqual(3);
    const all = blocks.map((b) => b.script).join('\n');
    // keygate's own ports come from the CLI or the variables, never from the text.
    expect(all.replaceAll('${KEYGATE_URL:-http://127.0.0.1:4000}', '')).not.toMatch(/:(4000|8080)\b/);

    const dataDir = await mkdtemp(join(tmpdir(), 'keygate-readme-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const [port, proxyPort, modelPort] = [await freePort(), await freePort(), String(await freePort())];
    const env = cliEnv({
      KEYGATE_PORT: String(port),
      KEYGATE_PROXY_PORT: String(proxyPort),
      KEYGATE_DATA_DIR: dataDir,
      KEYGATE_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'warn',
    });
    const asWritten = (script: string) => script.replaceAll(`--port ${MODEL_PORT}`, `--port ${modelPort}`).replaceAll(`127.0.0.1:${MODEL_PORT}`, `127.0.0.1:${modelPort}`);
    expect(all.split(MODEL_PORT).length - 1).toBe(all.split(`--port ${MODEL_PORT}`).length - 1 + (all.split(`127.0.0.1:${MODEL_PORT}`).length - 1));

    let backgroundOutput = '';
    for (const { script } of blocks.filter((b) => b.background)) {
      const child = spawn('bash', ['-c', asWritten(script)], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d) => (backgroundOutput += d));
      child.stderr.on('data', (d) => (backgroundOutput += d));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      cleanups.push(async () => {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          return; // already gone
        }
        await exited;
      });
    }
    try {
      await waitFor(`http://127.0.0.1:${port}/readyz`);
      await waitFor(`http://127.0.0.1:${proxyPort}/-/readyz`);
      await waitFor(`http://127.0.0.1:${modelPort}/v1/models`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${backgroundOutput}`, { cause: error });
    }

    const script = ['set -euo pipefail', ...blocks.filter((b) => !b.background).map((b) => asWritten(b.script))].join('\n');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    // The CLI part: curl -i status lines; the GraphQL part: bare status codes.
    expect([...stdout.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])).toEqual(['401', '200']);
    expect([...stdout.matchAll(/^(\d{3})$/gm)].map((m) => m[1])).toEqual(['401', '200']);
    expect(stdout).toContain(`http://model-demo.acme.localhost:${proxyPort}`);
    expect(stdout).toContain('"model":"llama-3-8b"');
  });
});
