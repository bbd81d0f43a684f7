// API keys: created with a secret shown once, updated, rotated (a new secret, the old one kept for
// an overlap), deleted (forcing unlinks if asked).
import { type Viewer, assertProjectReach } from './access.ts';
import type { PrismaClient, Tx } from '../db/database.ts';
import { uuidV7 } from '../db/uuid.ts';
import { readDeploymentState, recordKeyCreation } from '../feed/change-log.ts';
import { toKeyState } from '../feed/events.ts';
import { RetryableChangeError } from '../feed/recorder.ts';
import type { DomainDeps } from './deps.ts';
import { lockApiKey, lockDeployments } from './locks.ts';
import { badInput, conflict, notFound } from './errors.ts';
import { findReachableProject } from './projects.ts';
import { API_KEY_PREFIX, issueSecret } from './secrets.ts';
import { check, checkExpiry, notNull, rules } from './validation.ts';

/** A key's limits as given: a kind omitted or null has no limit. */
export interface RateLimitInput {
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
}

/** The limit columns of a key, checked (each value 1–10,000,000); null input removes both. */
function rateLimitColumns(input: RateLimitInput | null): { rateLimitRequests: number | null; rateLimitTokens: number | null } {
  const value = (v: number | null | undefined, field: string) => (v == null ? null : check(rules.rateLimitValue, v, `rateLimit.${field}`));
  return {
    rateLimitRequests: value(input?.requestsPerMinute, 'requestsPerMinute'),
    rateLimitTokens: value(input?.tokensPerMinute, 'tokensPerMinute'),
  };
}

export interface CreateApiKeyInput {
  projectId: string;
  name: string;
  description?: string | null;
  expiresAt?: Date | null;
  rateLimit?: RateLimitInput | null;
}

const nameTaken = (name: string) => conflict(`an API key named "${name}" already exists in this project`, 'name');

async function assertNameFree(tx: Tx, projectId: string, name: string, exceptId?: string) {
  const existing = await tx.apiKey.findUnique({ where: { projectId_name: { projectId, name } }, select: { id: true } });
  if (existing && existing.id !== exceptId) throw nameTaken(name);
}

/** A new key's fields, checked. When one is wrong, a project that does not exist is reported instead (NOT_FOUND comes first). */
async function checkedNewKey(prisma: PrismaClient, viewer: Viewer, input: CreateApiKeyInput) {
  try {
    return {
      name: check(rules.apiKeyName, input.name, 'name'),
      description: input.description == null ? null : check(rules.description, input.description, 'description'),
      expiresAt: checkExpiry(input.expiresAt, 'expiresAt') ?? null,
      ...rateLimitColumns(input.rateLimit ?? null),
    };
  } catch (error) {
    await findReachableProject(prisma, viewer, input.projectId);
    throw error;
  }
}

/**
 * One statement, its own transaction: the project's existence, the name's freedom, the key and its
 * event (src/db/statements/api-keys.ts insertApiKeyAndRecord).
 */
export async function createApiKey({ prisma, changes }: DomainDeps, viewer: Viewer, input: CreateApiKeyInput) {
  assertProjectReach(viewer, input.projectId);
  const fields = await checkedNewKey(prisma, viewer, input);
  const issued = issueSecret(API_KEY_PREFIX);
  const { result, propagation } = await changes.runStatement(viewer.tokenName, async (sql, actor) => {
    const key = { id: uuidV7(), projectId: input.projectId, ...fields, prefix: issued.prefix, hash: issued.hash, createdAt: new Date() };
    const apiKey = toKeyState({ ...key, previousHash: null, previousExpiresAt: null });
    const created = await recordKeyCreation(sql, actor, key, { projectId: key.projectId, type: 'API_KEY_CREATED', payload: { apiKeyId: key.id, apiKey } });
    if (!created.projectFound) throw notFound('project');
    if (!created.apiKey) throw nameTaken(fields.name);
    return { result: created.apiKey, event: created.event };
  });
  return { apiKey: result, secret: issued.secret, propagation };
}

/** Loads a key the viewer may reach, locking it for the transaction. */
async function loadKeyForChange(tx: Tx, viewer: Viewer, id: string) {
  const key = await lockApiKey(tx, id);
  if (!key) throw notFound('API key');
  assertProjectReach(viewer, key.projectId, 'API key');
  return key;
}

export interface UpdateApiKeyInput {
  id: string;
  name?: string | null;
  description?: string | null;
  /** undefined: keep; null: never expires */
  expiresAt?: Date | null;
  /** undefined: keep; null: no limits */
  rateLimit?: RateLimitInput | null;
}

export async function updateApiKey({ changes }: DomainDeps, viewer: Viewer, input: UpdateApiKeyInput) {
  const name = notNull(input.name, 'name');
  if (name !== undefined) check(rules.apiKeyName, name, 'name');
  if (input.description != null) check(rules.description, input.description, 'description');
  checkExpiry(input.expiresAt, 'expiresAt');
  const limits = input.rateLimit === undefined ? undefined : rateLimitColumns(input.rateLimit);
  const { result, propagation } = await changes.run(viewer.tokenName, async (tx) => {
    const key = await loadKeyForChange(tx, viewer, input.id);
    const data: {
      name?: string;
      description?: string | null;
      expiresAt?: Date | null;
      expiryAnnounced?: boolean;
      expiringAnnounced?: boolean;
      rateLimitRequests?: number | null;
      rateLimitTokens?: number | null;
    } = {};
    if (name !== undefined && name !== key.name) {
      await assertNameFree(tx, key.projectId, name, key.id);
      data.name = name;
    }
    if (input.description !== undefined && input.description !== key.description) data.description = input.description;
    if (input.expiresAt !== undefined && input.expiresAt?.getTime() !== key.expiresAt?.getTime()) {
      data.expiresAt = input.expiresAt;
      // A new expiry is announced afresh: expiring (when inside the warning window) and expired.
      data.expiryAnnounced = false;
      data.expiringAnnounced = false;
    }
    if (limits !== undefined && (limits.rateLimitRequests !== key.rateLimitRequests || limits.rateLimitTokens !== key.rateLimitTokens)) {
      Object.assign(data, limits);
    }
    if (Object.keys(data).length === 0) return { result: key, change: null };
    const apiKey = await tx.apiKey.update({ where: { id: key.id }, data });
    return {
      result: apiKey,
      change: { projectId: apiKey.projectId, type: 'API_KEY_UPDATED', payload: { apiKeyId: apiKey.id, apiKey: toKeyState(apiKey) } },
    };
  });
  return { apiKey: result, propagation };
}

/** The longest rotation overlap: 30 days. */
export const MAX_OVERLAP_SECONDS = 2_592_000;

/**
 * A new secret for the same key (id, name, links, limits and usage stay). The current secret
 * becomes the previous one and keeps working for `overlapSeconds`; with 0 it stops at once (its
 * hash leaves the state the proxies apply). A previous secret from an earlier rotation is dropped
 * here whatever its end: a key has at most two working secrets.
 */
export async function rotateApiKey({ changes }: DomainDeps, viewer: Viewer, input: { id: string; overlapSeconds?: number | null }) {
  const overlapSeconds = input.overlapSeconds ?? 0;
  if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_OVERLAP_SECONDS) {
    throw badInput('overlapSeconds', `overlapSeconds must be an integer between 0 and ${MAX_OVERLAP_SECONDS.toLocaleString('en-US')}`);
  }
  const issued = issueSecret(API_KEY_PREFIX);
  const { result, propagation } = await changes.run(viewer.tokenName, async (tx) => {
    const key = await loadKeyForChange(tx, viewer, input.id);
    const overlap = overlapSeconds > 0;
    const apiKey = await tx.apiKey.update({
      where: { id: key.id },
      data: {
        prefix: issued.prefix,
        hash: issued.hash,
        previousHash: overlap ? key.hash : null,
        previousPrefix: overlap ? key.prefix : null,
        previousExpiresAt: overlap ? new Date(Date.now() + overlapSeconds * 1000) : null,
      },
    });
    return {
      result: apiKey,
      change: { projectId: apiKey.projectId, type: 'API_KEY_ROTATED', payload: { apiKeyId: apiKey.id, apiKey: toKeyState(apiKey) } },
    };
  });
  return { apiKey: result, secret: issued.secret, propagation };
}

export async function deleteApiKey({ changes }: DomainDeps, viewer: Viewer, input: { id: string; force?: boolean | null }) {
  const { result, propagation } = await changes.run(viewer.tokenName, async (tx) => {
    // Lock order everywhere: deployments, then keys. The linked deployments are read, locked,
    // then read again under the key's lock; a link added in between makes the change retry.
    const linkedBefore = await linkedDeploymentIds(tx, input.id);
    await lockDeployments(tx, linkedBefore);
    const key = await loadKeyForChange(tx, viewer, input.id);
    const linked = await linkedDeploymentIds(tx, key.id);
    if (linked.some((id) => !linkedBefore.includes(id))) throw new RetryableChangeError('links changed during delete');
    if (linked.length > 0 && !input.force) {
      throw conflict(`the API key is linked to ${linked.length} deployment(s): unlink it first or delete with force: true`, 'force');
    }
    await tx.apiKey.delete({ where: { id: key.id } });
    const deployments = await Promise.all(linked.map((id) => readDeploymentState(tx, id)));
    return {
      result: key.id,
      change: { projectId: key.projectId, type: 'API_KEY_DELETED', payload: { apiKeyId: key.id, deleted: true, deployments } },
    };
  });
  return { deletedApiKeyId: result, propagation };
}

async function linkedDeploymentIds(tx: Tx, apiKeyId: string): Promise<string[]> {
  const links = await tx.apiKeyLink.findMany({ where: { apiKeyId }, select: { deploymentId: true }, orderBy: { deploymentId: 'asc' } });
  return links.map((l) => l.deploymentId);
}
