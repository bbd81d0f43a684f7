// Access tokens for the control plane: issuing, deleting, and recognising the bearer of one.
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PrismaClient } from '../db/database.ts';
import { type Viewer, assertProjectReach, projectScope, requireAdmin } from './access.ts';
import { DomainError, conflict } from './errors.ts';
import { ACCESS_TOKEN_PREFIX, hashSecret, isWellFormedSecret, issueSecret } from './secrets.ts';
import { check, checkExpiry, rules } from './validation.ts';

export interface CreateAccessTokenInput {
  name: string;
  projectId?: string | null;
  expiresAt?: Date | null;
}

export async function createAccessToken(prisma: PrismaClient, viewer: Viewer, input: CreateAccessTokenInput) {
  const name = check(rules.tokenName, input.name, 'name');
  const expiresAt = notAfterMinter(checkExpiry(input.expiresAt, 'expiresAt') ?? null, viewer);
  const projectId = input.projectId ?? null;
  if (projectId === null) requireAdmin(viewer, 'create admin tokens');
  else {
    assertProjectReach(viewer, projectId);
    if (!(await prisma.project.findUnique({ where: { id: projectId }, select: { id: true } }))) {
      throw new DomainError('NOT_FOUND', 'project not found', 'projectId');
    }
  }
  return issueAccessToken(prisma, { name, projectId, expiresAt });
}

/**
 * A token never outlives the token that minted it (issue 15, finding 5): a later expiry, or none,
 * is capped to the minter's. Capped rather than refused, so a client that asks for "never" with
 * a short-lived token still gets a token; the capped expiry is readable as AccessToken.expiresAt.
 */
function notAfterMinter(requested: Date | null, minter: Viewer): Date | null {
  const limit = minter.expiresAt ?? null;
  if (limit === null) return requested;
  return requested === null || requested.getTime() > limit.getTime() ? limit : requested;
}

/** Stores a new token's hash and returns the token itself, the only time it is seen. */
export async function issueAccessToken(
  prisma: PrismaClient,
  input: { name: string; projectId: string | null; expiresAt?: Date | null },
): Promise<{ id: string; token: string }> {
  // Names are unique per project, admin tokens among themselves: the answer says nothing about
  // other projects' tokens (issue 15, finding 6).
  if (await prisma.accessToken.findFirst({ where: { name: input.name, projectId: input.projectId }, select: { id: true } })) {
    const where = input.projectId ? 'in this project' : 'among admin tokens';
    throw conflict(`an access token named "${input.name}" already exists ${where}`, 'name');
  }
  const issued = issueSecret(ACCESS_TOKEN_PREFIX);
  const row = await prisma.accessToken.create({
    data: {
      name: input.name,
      role: input.projectId ? 'PROJECT' : 'ADMIN',
      projectId: input.projectId,
      expiresAt: input.expiresAt ?? null,
      prefix: issued.prefix,
      hash: issued.hash,
    },
  });
  return { id: row.id, token: issued.secret };
}

export async function deleteAccessToken(prisma: PrismaClient, viewer: Viewer, id: string): Promise<string> {
  const { count } = await prisma.accessToken.deleteMany({ where: { id, ...projectScope(viewer) } });
  if (count === 0) throw new DomainError('NOT_FOUND', 'access token not found', 'id');
  return id;
}

const LAST_USED_RESOLUTION_MS = 60_000;

/** Recognises the bearer of an `Authorization: Bearer <token>` header; null when it is not valid. */
export function createAuthenticator(prisma: PrismaClient, options: { adminToken?: string | undefined }) {
  const envAdminHash = options.adminToken ? createHash('sha256').update(options.adminToken).digest() : null;
  const lastTouched = new Map<string, number>();

  return async function authenticate(authorization: string | null | undefined): Promise<Viewer | null> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) return null;
    const token = match[1];
    if (envAdminHash && timingSafeEqual(createHash('sha256').update(token).digest(), envAdminHash)) {
      return { tokenId: null, tokenName: 'admin', role: 'ADMIN', projectId: null };
    }
    if (!isWellFormedSecret(ACCESS_TOKEN_PREFIX, token)) return null;
    const row = await prisma.accessToken.findUnique({ where: { hash: hashSecret(token) } });
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return null;
    const last = lastTouched.get(row.id) ?? row.lastUsedAt?.getTime() ?? 0;
    if (Date.now() - last > LAST_USED_RESOLUTION_MS) {
      lastTouched.set(row.id, Date.now());
      if (lastTouched.size > 10_000) lastTouched.clear();
      prisma.accessToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
    }
    return { tokenId: row.id, tokenName: row.name, role: row.role, projectId: row.projectId, expiresAt: row.expiresAt };
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;

/**
 * With no KEYGATE_ADMIN_TOKEN, `keygate start` keeps an admin token in a file (0600, see config/admin-token-file.ts).
 * Reuses the file while its token is valid; otherwise issues a new one. Returns the file's path.
 */
export async function ensureAdminTokenFile(prisma: PrismaClient, path: string): Promise<string> {
  const existing = await readFile(path, 'utf8').then((s) => s.trim(), () => null);
  if (existing && (await prisma.accessToken.findUnique({ where: { hash: hashSecret(existing) }, select: { id: true } }))) {
    return path;
  }
  let name = 'admin';
  for (let i = 2; await prisma.accessToken.findFirst({ where: { name, projectId: null }, select: { id: true } }); i++) name = `admin-${i}`;
  const { token } = await issueAccessToken(prisma, { name, projectId: null });
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

/** Ends sessions whose access token was deleted or has expired (DESIGN.md, access to the control plane). */
export interface TokenWatch {
  /** Calls `onEnded` once when the token is found deleted or expired; returns a function that stops watching. */
  watch(tokenId: string, onEnded: () => void): () => void;
  /** watchers registered, for tests and metrics */
  readonly size: number;
  stop(): void;
}

const WATCH_BATCH = 1000;

/**
 * One query per interval for every token watched on this replica (not one per session), so a
 * deleted token ends its subscriptions on every replica within about `intervalMs`. The env admin
 * token (tokenId null) is never watched: it cannot be deleted. A failed check changes nothing.
 */
export function createTokenWatch(prisma: PrismaClient, options: { intervalMs?: number; onError?: (error: unknown) => void } = {}): TokenWatch {
  const watchers = new Map<string, Set<() => void>>();
  let size = 0;
  let checking = false;

  async function check(): Promise<void> {
    if (checking || watchers.size === 0) return;
    checking = true;
    try {
      const ids = [...watchers.keys()];
      const now = new Date();
      const alive = new Set<string>();
      for (let i = 0; i < ids.length; i += WATCH_BATCH) {
        const rows = await prisma.accessToken.findMany({
          where: { id: { in: ids.slice(i, i + WATCH_BATCH) }, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
          select: { id: true },
        });
        for (const row of rows) alive.add(row.id);
      }
      for (const id of ids) {
        if (alive.has(id)) continue;
        const ended = watchers.get(id);
        watchers.delete(id);
        if (!ended) continue;
        size -= ended.size;
        for (const onEnded of ended) {
          try {
            onEnded();
          } catch (error) {
            options.onError?.(error);
          }
        }
      }
    } catch (error) {
      options.onError?.(error);
    } finally {
      checking = false;
    }
  }

  const timer = setInterval(() => void check(), Math.max(10, options.intervalMs ?? 1000));
  timer.unref();

  return {
    watch(tokenId, onEnded) {
      let set = watchers.get(tokenId);
      if (!set) watchers.set(tokenId, (set = new Set()));
      const entry = () => onEnded();
      set.add(entry);
      size++;
      return () => {
        const current = watchers.get(tokenId);
        if (!current?.delete(entry)) return;
        size--;
        if (current.size === 0) watchers.delete(tokenId);
      };
    },
    get size() {
      return size;
    },
    stop() {
      clearInterval(timer);
      watchers.clear();
      size = 0;
    },
  };
}
