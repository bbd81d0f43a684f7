// The embedded store's lock: one keygate process at a time may open KEYGATE_DATA_DIR (PGlite has
// no lock of its own, and two processes on one directory lose writes). The lock is a file holding
// the owner's pid, host and process start time, written aside and hard-linked into place (atomic,
// and never seen half-written). A lock whose owner is gone (a
// killed process) is taken over at once: liveness is checked, not an age, so a restart after a
// crash is never made to wait. Breaking a stale lock is itself guarded by an atomic mkdir, so two
// processes racing for one stale lock cannot both win.
import { link, mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'keygate.lock';

interface Owner {
  pid: number;
  host: string;
  /** the owner's start time in clock ticks since boot (Linux), to tell a reused pid apart */
  started: string | null;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly owner: Owner,
  ) {
    const where = owner.host === hostname() ? `process ${owner.pid}` : `process ${owner.pid} on host ${owner.host}`;
    super(
      `the embedded store in ${join(lockPath, '..')} is in use by another keygate (${where}); lock: ${lockPath}. ` +
        'Stop that process, or set KEYGATE_DATA_DIR (--data-dir) to another directory' +
        (owner.host === hostname() ? '' : `; if no keygate runs on ${owner.host}, delete the lock file`),
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  path: string;
  release(): Promise<void>;
}

/** Field 22 of /proc/<pid>/stat: when the process started. null where there is no /proc. */
async function startTime(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (!stat) return null;
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

async function isAlive(owner: Owner): Promise<boolean> {
  if (owner.host !== hostname()) return true; // cannot tell: another host's process counts as running
  if (owner.pid === process.pid) return false; // our own pid: a lock from before a restart (containers reuse pids)
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const started = await startTime(owner.pid);
  return owner.started === null || started === null || started === owner.started;
}

async function readOwner(path: string): Promise<Owner | null> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return null;
  try {
    const owner = JSON.parse(text) as Owner;
    if (Number.isInteger(owner.pid) && typeof owner.host === 'string') return owner;
  } catch {
    // not JSON: not a lock keygate wrote
  }
  throw new Error(`the lock ${path} is not keygate's: remove it if no keygate uses this directory`);
}

/** How long a half-finished break (its owner killed between mkdir and rmdir) blocks others. */
const BREAKER_STALE_MS = 10_000;

/** Removes the lock if it still names the dead owner read before; false when another process is breaking it. */
async function breakStaleLock(path: string, dead: Owner): Promise<boolean> {
  const breaker = `${path}.breaking`;
  try {
    await mkdir(breaker);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = await stat(breaker).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > BREAKER_STALE_MS) await rmdir(breaker).catch(() => {});
    return false;
  }
  try {
    const current = await readOwner(path);
    if (current && current.pid === dead.pid && current.started === dead.started && current.host === dead.host) {
      const aside = `${path}.stale-${process.pid}`;
      await rename(path, aside);
      await rm(aside, { force: true });
    }
    return true;
  } finally {
    await rmdir(breaker).catch(() => {});
  }
}

/** Takes the lock of dataDir (creating the directory), or throws DataDirLockedError naming the lock. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCK_FILE);
  const me: Owner = { pid: process.pid, host: hostname(), started: await startTime(process.pid) };
  for (let attempt = 0; attempt < 50; attempt++) {
    const mine = `${path}.${process.pid}`;
    await writeFile(mine, `${JSON.stringify(me)}\n`, { mode: 0o600 });
    try {
      await link(mine, path);
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          const owner = await readOwner(path);
          if (owner?.pid === me.pid && owner.started === me.started) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(mine, { force: true });
    }
    const owner = await readOwner(path);
    if (!owner) continue; // released meanwhile
    if (await isAlive(owner)) throw new DataDirLockedError(path, owner);
    if (!(await breakStaleLock(path, owner))) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`could not take the lock ${path}: it keeps changing hands`);
}
