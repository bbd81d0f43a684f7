// The embedded store's directory holds every key hash and the change log: only keygate's user may
// read or write it (DESIGN.md, "Operating it"). PGlite creates its files with its own modes (0666
// for WAL, pg_control and the catalogs), and older keygate versions left the directory 0755, so
// the modes are re-applied on every start, after the store is open.
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Creates `dir` if missing; then it is 0700 and nothing below it is readable or writable by group or others. */
export async function makeDirPrivate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await restrict(dir);
}

async function restrict(path: string): Promise<void> {
  const stats = await lstat(path);
  if (stats.isSymbolicLink()) return; // chmod would follow it out of the directory
  const wanted = stats.isDirectory() ? 0o700 : stats.mode & 0o700;
  if ((stats.mode & 0o777) !== wanted) await chmod(path, wanted);
  if (!stats.isDirectory()) return;
  for (const entry of await readdir(path)) await restrict(join(path, entry));
}
