// Deployments and their linked API keys: create, update, delete, the auth toggle with its linked
// set, link and unlink. Every change carries the deployment's resulting state and linked set.
import { type Viewer, canReachProject } from './access.ts';
import type { Tx } from '../db/database.ts';
import type { DomainDeps } from './deps.ts';
import { lockDeployment } from './locks.ts';
import type { UpstreamPolicy } from './upstream-policy.ts';
import { DomainError, badInput, conflict } from './errors.ts';
import { findReachableProject } from './projects.ts';
import { check, notNull, rules } from './validation.ts';
import type { ChangeType } from '../feed/events.ts';
import type { Deployment } from '../generated/prisma/client.ts';

async function assertNameFree(tx: Tx, projectId: string, name: string) {
  const existing = await tx.deployment.findUnique({ where: { projectId_name: { projectId, name } }, select: { id: true } });
  if (existing) throw conflict(`a deployment named "${name}" already exists in this project`, 'name');
}

/** A key that has expired cannot be linked (it would open nothing, and the page would show it as if it did). */
const hasExpired = (key: { expiresAt: Date | null }) => key.expiresAt !== null && key.expiresAt.getTime() <= Date.now();
const expiredKeyError = (key: { name: string }, field: string) =>
  badInput(field, `the API key "${key.name}" has expired and cannot be linked: extend its expiry first, or pick another key`);

/**
 * The keys to link, all of which must exist, be reachable and belong to the deployment's project;
 * those not in `alreadyLinked` must not have expired (a linked key that expired since may stay).
 */
async function resolveKeys(tx: Tx, viewer: Viewer, projectId: string, apiKeyIds: string[], field: string, alreadyLinked: string[] = []): Promise<string[]> {
  const ids = [...new Set(apiKeyIds)];
  const keys = await tx.apiKey.findMany({ where: { id: { in: ids } }, select: { id: true, projectId: true, name: true, expiresAt: true } });
  const found = new Map(keys.map((k) => [k.id, k]));
  for (const id of ids) {
    const key = found.get(id);
    if (key === undefined || !canReachProject(viewer, key.projectId)) throw new DomainError('NOT_FOUND', 'API key not found', field);
    if (key.projectId !== projectId) throw conflict('an API key can only be linked to deployments of its own project', field);
    if (hasExpired(key) && !alreadyLinked.includes(id)) throw expiredKeyError(key, field);
  }
  return ids.sort();
}

export interface CreateDeploymentInput {
  projectId: string;
  name: string;
  model: string;
  upstreamUrl: string;
  authEnabled?: boolean | null;
  apiKeyIds?: string[] | null;
}

/** An http(s) URL whose host is not a refused address (link-local, metadata, KEYGATE_UPSTREAM_DENY). */
async function checkUpstream(policy: UpstreamPolicy, value: string): Promise<string> {
  const url = check(rules.upstreamUrl, value, 'upstreamUrl');
  const refused = await policy.refusedTarget(url);
  if (refused) throw badInput('upstreamUrl', `upstreamUrl points at ${refused}, an address keygate refuses as an upstream (KEYGATE_UPSTREAM_ALLOW can permit it)`);
  return url;
}

export async function createDeployment({ prisma, changes, upstreamPolicy }: DomainDeps, viewer: Viewer, input: CreateDeploymentInput) {
  await findReachableProject(prisma, viewer, input.projectId);
  const name = check(rules.deploymentName, input.name, 'name');
  const model = check(rules.model, input.model, 'model');
  const upstreamUrl = await checkUpstream(upstreamPolicy, input.upstreamUrl);
  const authEnabled = notNull(input.authEnabled, 'authEnabled') ?? false;
  const apiKeyIds = notNull(input.apiKeyIds, 'apiKeyIds') ?? [];
  const { result, propagation } = await changes.run(viewer.tokenName, async (tx) => {
    await assertNameFree(tx, input.projectId, name);
    const keyIds = await resolveKeys(tx, viewer, input.projectId, apiKeyIds, 'apiKeyIds');
    const deployment = await tx.deployment.create({
      data: {
        projectId: input.projectId,
        name,
        model,
        upstreamUrl,
        authEnabled,
        links: { create: keyIds.map((apiKeyId) => ({ apiKeyId })) },
      },
    });
    return deploymentChange(deployment, 'DEPLOYMENT_CREATED');
  });
  return { deployment: result, propagation };
}

/**
 * Locks a deployment the viewer may reach and returns its row, with the row of `apiKeyId` when
 * given (see lockDeployment); one statement.
 */
async function loadDeploymentForChange(tx: Tx, viewer: Viewer, id: string, field = 'id', apiKeyId?: string) {
  const locked = await lockDeployment(tx, id, apiKeyId);
  if (!locked || !canReachProject(viewer, locked.deployment.projectId)) throw new DomainError('NOT_FOUND', 'deployment not found', field);
  return locked;
}

/** The keys linked to a deployment; read after its lock, so no committed link is missing. */
async function linkedKeyIds(tx: Tx, deploymentId: string): Promise<string[]> {
  const links = await tx.apiKeyLink.findMany({ where: { deploymentId }, select: { apiKeyId: true } });
  return links.map((l) => l.apiKeyId);
}

/** The outcome of a change to a deployment; its event carries the resulting state (recordChange reads it). */
function deploymentChange(deployment: Deployment, type: ChangeType, apiKeyId?: string) {
  return {
    result: deployment,
    change: { projectId: deployment.projectId, type, payload: { deploymentId: deployment.id, apiKeyId }, deploymentState: deployment.id },
  };
}

export async function updateDeployment(
  { changes, upstreamPolicy }: DomainDeps,
  viewer: Viewer,
  input: { id: string; model?: string | null; upstreamUrl?: string | null },
) {
  const model = notNull(input.model, 'model');
  const upstreamUrl = notNull(input.upstreamUrl, 'upstreamUrl');
  if (model !== undefined) check(rules.model, model, 'model');
  if (upstreamUrl !== undefined) await checkUpstream(upstreamPolicy, upstreamUrl);
  const { result, propagation } = await changes.run(viewer.tokenName, async (tx) => {
    const { deployment: current } = await loadDeploymentForChange(tx, viewer, input.id);
    const data: { model?: string; upstreamUrl?: string } = {};
    if (model !== undefined && model.trim() !== current.model) data.model = model.trim();
    if (upstreamUrl !== undefined && upstreamUrl !== current.upstreamUrl) data.upstreamUrl = upstreamUrl;
    if (Object.keys(data).length === 0) return { result: current, change: null };
    return deploymentChange(await tx.deployment.update({ where: { id: current.id }, data }), 'DEPLOYMENT_UPDATED');
  });
  return { deployment: result, propagation };
}

export async function deleteDeployment({ changes }: DomainDeps, viewer: Viewer, input: { id: string }) {
  const { result, propagation } = await changes.run(viewer.tokenName, async (tx) => {
    const { deployment: current } = await loadDeploymentForChange(tx, viewer, input.id);
    await tx.deployment.delete({ where: { id: current.id } });
    return {
      result: current.id,
      change: { projectId: current.projectId, type: 'DEPLOYMENT_DELETED', payload: { deploymentId: current.id, deleted: true } },
    };
  });
  return { deletedDeploymentId: result, propagation };
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** The deployment's API Keys tab: the toggle and, when given, the exact linked set, saved at once. */
export async function setDeploymentAuth(
  { changes }: DomainDeps,
  viewer: Viewer,
  input: { deploymentId: string; enabled: boolean; apiKeyIds?: string[] | null },
) {
  const { result, propagation } = await changes.run(viewer.tokenName, async (tx) => {
    const { deployment: current } = await loadDeploymentForChange(tx, viewer, input.deploymentId, 'deploymentId');
    const linked = await linkedKeyIds(tx, current.id);
    const wanted = input.apiKeyIds == null ? linked : await resolveKeys(tx, viewer, current.projectId, input.apiKeyIds, 'apiKeyIds', linked);
    if (current.authEnabled === input.enabled && sameSet(linked, wanted)) return { result: current, change: null };
    const removed = linked.filter((id) => !wanted.includes(id));
    const added = wanted.filter((id) => !linked.includes(id));
    if (removed.length > 0) await tx.apiKeyLink.deleteMany({ where: { deploymentId: current.id, apiKeyId: { in: removed } } });
    if (added.length > 0) await tx.apiKeyLink.createMany({ data: added.map((apiKeyId) => ({ apiKeyId, deploymentId: current.id })) });
    // The toggle, the linked set or both changed: either way the deployment was updated.
    const updated = await tx.deployment.update({ where: { id: current.id }, data: { authEnabled: input.enabled, updatedAt: new Date() } });
    return deploymentChange(updated, 'DEPLOYMENT_AUTH_CHANGED');
  });
  return { deployment: result, propagation };
}

/** Links (or unlinks) one key; doing what is already so changes nothing and succeeds. */
export async function setLink(
  { changes }: DomainDeps,
  viewer: Viewer,
  input: { deploymentId: string; apiKeyId: string },
  linked: boolean,
) {
  const { result, propagation } = await changes.run(viewer.tokenName, async (tx) => {
    const { deployment, apiKey } = await loadDeploymentForChange(tx, viewer, input.deploymentId, 'deploymentId', input.apiKeyId);
    if (!apiKey || !canReachProject(viewer, apiKey.projectId)) throw new DomainError('NOT_FOUND', 'API key not found', 'apiKeyId');
    if (apiKey.projectId !== deployment.projectId) {
      throw conflict('an API key can only be linked to deployments of its own project', 'apiKeyId');
    }
    // Linking an expired key is refused, unless it is linked already (then nothing changes).
    const link = { apiKeyId: apiKey.id, deploymentId: deployment.id };
    if (linked && hasExpired(apiKey) && !(await tx.apiKeyLink.findUnique({ where: { apiKeyId_deploymentId: link } }))) {
      throw expiredKeyError(apiKey, 'apiKeyId');
    }
    // The write goes with the event, in one statement; it tells whether anything changed (ON
    // CONFLICT DO NOTHING / nothing deleted): when not, no revision is taken.
    const { change } = deploymentChange(deployment, linked ? 'API_KEY_LINKED' : 'API_KEY_UNLINKED', apiKey.id);
    return { result: { deployment, apiKey }, change: { ...change, link: { apiKeyId: apiKey.id, linkedAt: linked ? new Date() : null } } };
  });
  return { ...result, propagation };
}

