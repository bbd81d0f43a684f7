// Deployments and their linked API keys: create, update, delete, the auth toggle with its linked
// set, link and unlink. Every change carries the deployment's resulting state and linked set.
import { type Viewer, canReachProject } from './access.ts';
import { readDeploymentState, type Tx } from './change-log.ts';
import { lockRow } from './changes.ts';
import type { DomainDeps } from './deps.ts';
import type { UpstreamPolicy } from './upstream-policy.ts';
import { DomainError, badInput, conflict } from './errors.ts';
import { findReachableProject } from './projects.ts';
import { check, notNull, rules } from './validation.ts';
import type { ChangeType } from '../feed/events.ts';

async function assertNameFree(tx: Tx, projectId: string, name: string) {
  const existing = await tx.deployment.findUnique({ where: { projectId_name: { projectId, name } }, select: { id: true } });
  if (existing) throw conflict(`a deployment named "${name}" already exists in this project`, 'name');
}

/** The keys to link, all of which must exist, be reachable and belong to the deployment's project. */
async function resolveKeys(tx: Tx, viewer: Viewer, projectId: string, apiKeyIds: string[], field: string): Promise<string[]> {
  const ids = [...new Set(apiKeyIds)];
  const keys = await tx.apiKey.findMany({ where: { id: { in: ids } }, select: { id: true, projectId: true } });
  const found = new Map(keys.map((k) => [k.id, k.projectId]));
  for (const id of ids) {
    const keyProject = found.get(id);
    if (keyProject === undefined || !canReachProject(viewer, keyProject)) throw new DomainError('NOT_FOUND', 'API key not found', field);
    if (keyProject !== projectId) throw conflict('an API key can only be linked to deployments of its own project', field);
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
    const state = await readDeploymentState(tx, deployment.id);
    return {
      result: deployment,
      change: { projectId: deployment.projectId, type: 'DEPLOYMENT_CREATED', payload: { deploymentId: deployment.id, deployment: state } },
    };
  });
  return { deployment: result, propagation };
}

/** Loads a deployment the viewer may reach, locking it for the transaction. */
async function loadDeploymentForChange(tx: Tx, viewer: Viewer, id: string, field = 'id') {
  if (!(await lockRow(tx, 'deployments', id))) throw new DomainError('NOT_FOUND', 'deployment not found', field);
  const deployment = await tx.deployment.findUniqueOrThrow({ where: { id }, include: { links: { select: { apiKeyId: true } } } });
  if (!canReachProject(viewer, deployment.projectId)) throw new DomainError('NOT_FOUND', 'deployment not found', field);
  return deployment;
}

/** Records a change to a deployment with its state as of now, inside the transaction. */
async function deploymentChange(tx: Tx, deploymentId: string, type: ChangeType, apiKeyId?: string) {
  const state = await readDeploymentState(tx, deploymentId);
  const deployment = await tx.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
  return {
    result: deployment,
    change: { projectId: state.projectId, type, payload: { deploymentId, apiKeyId, deployment: state } },
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
    const current = await loadDeploymentForChange(tx, viewer, input.id);
    const data: { model?: string; upstreamUrl?: string } = {};
    if (model !== undefined && model.trim() !== current.model) data.model = model.trim();
    if (upstreamUrl !== undefined && upstreamUrl !== current.upstreamUrl) data.upstreamUrl = upstreamUrl;
    if (Object.keys(data).length === 0) return { result: current, change: null };
    await tx.deployment.update({ where: { id: current.id }, data });
    return deploymentChange(tx, current.id, 'DEPLOYMENT_UPDATED');
  });
  return { deployment: result, propagation };
}

export async function deleteDeployment({ changes }: DomainDeps, viewer: Viewer, input: { id: string }) {
  const { result, propagation } = await changes.run(viewer.tokenName, async (tx) => {
    const current = await loadDeploymentForChange(tx, viewer, input.id);
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
    const current = await loadDeploymentForChange(tx, viewer, input.deploymentId, 'deploymentId');
    const linked = current.links.map((l) => l.apiKeyId);
    const wanted = input.apiKeyIds == null ? linked : await resolveKeys(tx, viewer, current.projectId, input.apiKeyIds, 'apiKeyIds');
    if (current.authEnabled === input.enabled && sameSet(linked, wanted)) return { result: current, change: null };
    if (current.authEnabled !== input.enabled) {
      await tx.deployment.update({ where: { id: current.id }, data: { authEnabled: input.enabled } });
    }
    const removed = linked.filter((id) => !wanted.includes(id));
    const added = wanted.filter((id) => !linked.includes(id));
    if (removed.length > 0) await tx.apiKeyLink.deleteMany({ where: { deploymentId: current.id, apiKeyId: { in: removed } } });
    if (added.length > 0) await tx.apiKeyLink.createMany({ data: added.map((apiKeyId) => ({ apiKeyId, deploymentId: current.id })) });
    if (removed.length + added.length > 0) await tx.deployment.update({ where: { id: current.id }, data: { updatedAt: new Date() } });
    return deploymentChange(tx, current.id, 'DEPLOYMENT_AUTH_CHANGED');
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
    const deployment = await loadDeploymentForChange(tx, viewer, input.deploymentId, 'deploymentId');
    const apiKey = await tx.apiKey.findUnique({ where: { id: input.apiKeyId } });
    if (!apiKey || !canReachProject(viewer, apiKey.projectId)) throw new DomainError('NOT_FOUND', 'API key not found', 'apiKeyId');
    if (apiKey.projectId !== deployment.projectId) {
      throw conflict('an API key can only be linked to deployments of its own project', 'apiKeyId');
    }
    const isLinked = deployment.links.some((l) => l.apiKeyId === apiKey.id);
    if (isLinked === linked) return { result: { deployment, apiKey }, change: null };
    if (linked) await tx.apiKeyLink.create({ data: { apiKeyId: apiKey.id, deploymentId: deployment.id } });
    else await tx.apiKeyLink.delete({ where: { apiKeyId_deploymentId: { apiKeyId: apiKey.id, deploymentId: deployment.id } } });
    const outcome = await deploymentChange(tx, deployment.id, linked ? 'API_KEY_LINKED' : 'API_KEY_UNLINKED', apiKey.id);
    return { result: { deployment: outcome.result, apiKey }, change: outcome.change };
  });
  return { ...result, propagation };
}

