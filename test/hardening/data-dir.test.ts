// Issue 15, finding 4: the embedded data directory was 0755 with most of its files 0666 (WAL,
// pg_control, catalogs): another local user could corrupt it or plant rows. It must be 0700 with
// nothing in it writable (or readable) by group or others, on creation and at every start, which
// also repairs what an older version left.
import { chmod, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbedded } from '../../src/db/database.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Every path under dir (dir included) with its permission bits, symlinks left out. */
async function modes(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const walk = async (path: string) => {
    const stats = await lstat(path);
    if (stats.isSymbolicLink()) return;
    found.set(path, stats.mode & 0o777);
    if (stats.isDirectory()) for (const entry of await readdir(path)) await walk(join(path, entry));
  };
  await walk(dir);
  return found;
}

function expectPrivate(dataDir: string, found: Map<string, number>) {
  expect(found.get(dataDir)?.toString(8)).toBe('700');
  const open = [...found].filter(([, mode]) => (mode & 0o077) !== 0).map(([path, mode]) => `${path} ${mode.toString(8)}`);
  expect(open).toEqual([]);
  expect(found.size).toBeGreaterThan(100); // the store's files were really there to check
}

describe('the embedded data directory', () => {
  it('is 0700 with no file open to group or others when created, and again after a start on a directory an older version left open', async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'keygate-datadir-')), 'data');
    dirs.push(dataDir);
    const first = await openEmbedded(dataDir);
    await first.prisma.project.count();
    expectPrivate(dataDir, await modes(dataDir));
    await first.close();

    // What an older version left: the directory 0755, every file 0666, every subdirectory 0777.
    for (const [path] of await modes(dataDir)) {
      const stats = await lstat(path);
      await chmod(path, path === dataDir ? 0o755 : stats.isDirectory() ? 0o777 : 0o666);
    }
    const second = await openEmbedded(dataDir);
    try {
      expect(await second.prisma.project.count()).toBe(0); // still a working store
      expectPrivate(dataDir, await modes(dataDir));
    } finally {
      await second.close();
    }
  }, 120_000); // two embedded-store starts: slow on a loaded machine
});
