// `--help` on every command and subcommand prints its help and does nothing else: no port bound,
// no data directory created, nothing written where it runs. `--version` prints package.json's.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keygate, portIsFree } from '../helpers/cli.ts';

const COMMANDS = [
  [],
  ['start'],
  ['control-plane'],
  ['proxy'],
  ['migrate'],
  ['token'],
  ['token', 'create'],
  ['mock-upstream'],
  ['projects'],
  ['projects', 'list'],
  ['projects', 'create'],
  ['keys'],
  ['keys', 'create'],
  ['keys', 'list'],
  ['keys', 'rotate'],
  ['keys', 'delete'],
  ['deployments'],
  ['deployments', 'create'],
  ['deployments', 'list'],
  ['link'],
  ['unlink'],
  ['status'],
  ['events'],
];

describe('keygate --help and --version', { timeout: 300_000 }, () => {
  let cwd: string;
  let env: Record<string, string>;
  /** the ports a start would take, held by this test (the OS's free ones): a command that tried to
   *  listen on one would fail and say so, and no other test's port 0 can land on them meanwhile (a
   *  port merely seen free before and after could be taken in between by anyone) */
  const held: Server[] = [];
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'keygate-help-'));
    for (let i = 0; i < 2; i++) {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      held.push(server);
    }
    const [port, proxyPort] = held.map((server) => (server.address() as { port: number }).port);
    // What a start would take: its ports and its data directory.
    env = {
      KEYGATE_PORT: String(port),
      KEYGATE_PROXY_PORT: String(proxyPort),
      KEYGATE_DATA_DIR: join(cwd, 'data'),
    };
  });
  afterAll(async () => {
    for (const server of held) await new Promise((resolve) => server.close(resolve));
    await rm(cwd, { recursive: true, force: true });
  });

  it('every command answers --help with its usage and no side effect', async () => {
    const top = await keygate(['--help'], env, cwd);
    const listed = [...top.stdout.matchAll(/^ {2}([a-z-]+)[ [<]/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    expect(listed.sort()).toEqual([...new Set(COMMANDS.filter((c) => c.length > 0).map((c) => c[0]))].sort());

    // The mock upstream's default port, outside the range the OS hands out for port 0.
    const mockPortFreeBefore = await portIsFree(9000);
    // A few at a time: the machine is shared.
    for (let i = 0; i < COMMANDS.length; i += 4) {
      const results = await Promise.all(COMMANDS.slice(i, i + 4).map((command) => keygate([...command, '--help'], env, cwd)));
      results.forEach((result, j) => {
        const command = COMMANDS[i + j]!;
        expect(result.stderr, command.join(' ')).toBe('');
        expect(result.code, command.join(' ')).toBe(0);
        expect(result.stdout).toMatch(new RegExp(`^Usage: keygate${command.map((c) => ` ${c}`).join('')} `));
      });
    }
    expect(await readdir(cwd)).toEqual([]);
    expect(existsSync(env.KEYGATE_DATA_DIR!)).toBe(false);
    expect(await portIsFree(9000)).toBe(mockPortFreeBefore);
  });

  it('start documents its flags beside the variables they override', async () => {
    const { stdout } = await keygate(['start', '--help'], env, cwd);
    for (const [flag, variable] of [
      ['--port', 'KEYGATE_PORT'],
      ['--proxy-port', 'KEYGATE_PROXY_PORT'],
      ['--data-dir', 'KEYGATE_DATA_DIR'],
      ['--host', 'KEYGATE_HOST'],
    ]) {
      expect(stdout).toContain(flag);
      expect(stdout).toContain(variable);
    }
  });

  it('--version and -v print the version of package.json', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const result = await keygate([flag], env, cwd);
      expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('an unknown command or option fails with a pointer to --help, and still no side effect', async () => {
    const unknown = await keygate(['stat'], env, cwd);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command 'stat'/);
    const badFlag = await keygate(['start', '--port', 'eighty'], env, cwd);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toMatch(/--port <port>.*must be a port number/);
    expect(await readdir(cwd)).toEqual([]);
  });
});
