// Small builders for the state most tests start from.
import { uniqueName } from './services.ts';
import type { TestKeygate } from './keygate.ts';
import { CreateApiKey, CreateDeployment, CreateProject } from './operations.ts';

export const slugFor = (prefix = 'p') => uniqueName(prefix).replace(/_/g, '-').toLowerCase().slice(0, 40);

export async function createProject(kg: TestKeygate, slug = slugFor()) {
  const r = await kg.gql(CreateProject, { slug });
  if (!r.data) throw new Error(`createProject failed: ${JSON.stringify(r.errors)}`);
  return r.data.createProject.project;
}

export async function createKey(kg: TestKeygate, projectId: string, name: string, extra: { expiresAt?: string; description?: string } = {}) {
  const r = await kg.gql(CreateApiKey, { input: { projectId, name, ...extra } });
  if (!r.data) throw new Error(`createApiKey failed: ${JSON.stringify(r.errors)}`);
  return r.data.createApiKey;
}

export async function createDeployment(
  kg: TestKeygate,
  projectId: string,
  name: string,
  extra: { upstreamUrl?: string; authEnabled?: boolean; apiKeyIds?: string[] } = {},
) {
  const r = await kg.gql(CreateDeployment, {
    input: { projectId, name, model: 'llama-3-8b', upstreamUrl: extra.upstreamUrl ?? 'http://127.0.0.1:9/v1', ...extra },
  });
  if (!r.data) throw new Error(`createDeployment failed: ${JSON.stringify(r.errors)}`);
  return r.data.createDeployment.deployment;
}
