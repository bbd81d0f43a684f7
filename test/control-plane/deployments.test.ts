import { describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { errorCode, errorField, useKeygate } from '../helpers/keygate.ts';
import {
  CreateDeployment,
  DeleteDeployment,
  LinkApiKey,
  Node,
  SetDeploymentAuth,
  UnlinkApiKey,
  UpdateDeployment,
} from '../helpers/operations.ts';

const t = useKeygate({ KEYGATE_BASE_DOMAIN: 'inference.test', KEYGATE_PUBLIC_PORT: '8443', KEYGATE_PUBLIC_SCHEME: 'https' });

describe('createDeployment', () => {
  it('creates a deployment with its linked keys and its endpoint URL', async () => {
    const project = await createProject(t.kg);
    const a = await createKey(t.kg, project.id, 'key-a');
    const b = await createKey(t.kg, project.id, 'key-b');
    const r = await t.kg.gql(CreateDeployment, {
      input: { projectId: project.id, name: 'llama', model: 'llama-3-8b', upstreamUrl: 'https://models.internal/v1', authEnabled: true, apiKeyIds: [a.apiKey.id, b.apiKey.id, a.apiKey.id] },
    });
    expect(r.errors).toBeUndefined();
    const d = r.data!.createDeployment.deployment;
    expect(d).toMatchObject({ name: 'llama', authEnabled: true, endpointUrl: `https://model-llama.${project.slug}.inference.test:8443` });
    expect(d.apiKeys.map((k) => k.name).sort()).toEqual(['key-a', 'key-b']);
    expect(r.data!.createDeployment.propagation.revision).toBeGreaterThan(b.propagation.revision);
  });

  it.each([
    [{ name: 'Bad_Name' }, 'name'],
    [{ name: 'x'.repeat(49) }, 'name'],
    [{ name: '-dash' }, 'name'],
    [{ upstreamUrl: 'ftp://example.com' }, 'upstreamUrl'],
    [{ upstreamUrl: 'not a url' }, 'upstreamUrl'],
    [{ upstreamUrl: 'http://user:pw@example.com' }, 'upstreamUrl'],
    [{ model: '' }, 'model'],
  ])('rejects %o', async (override, field) => {
    const project = await createProject(t.kg);
    const r = await t.kg.gql(CreateDeployment, {
      input: { projectId: project.id, name: 'valid-name', model: 'm', upstreamUrl: 'http://127.0.0.1:9/v1', ...override },
    });
    expect([errorCode(r), errorField(r)]).toEqual(['BAD_USER_INPUT', field]);
  });

  it('accepts a 48-character name and rejects a duplicate with CONFLICT', async () => {
    const project = await createProject(t.kg);
    await createDeployment(t.kg, project.id, 'd'.repeat(48));
    const dup = await t.kg.gql(CreateDeployment, { input: { projectId: project.id, name: 'd'.repeat(48), model: 'm', upstreamUrl: 'http://127.0.0.1:9' } });
    expect([errorCode(dup), errorField(dup)]).toEqual(['CONFLICT', 'name']);
  });

  it('refuses to link a key of another project (CONFLICT) and unknown keys (NOT_FOUND)', async () => {
    const a = await createProject(t.kg);
    const b = await createProject(t.kg);
    const foreign = await createKey(t.kg, b.id, 'foreign-key');
    const cross = await t.kg.gql(CreateDeployment, { input: { projectId: a.id, name: 'dep', model: 'm', upstreamUrl: 'http://127.0.0.1:9', apiKeyIds: [foreign.apiKey.id] } });
    expect([errorCode(cross), errorField(cross)]).toEqual(['CONFLICT', 'apiKeyIds']);
    const unknown = Buffer.from('ApiKey:00000000-0000-7000-8000-000000000000').toString('base64');
    const missing = await t.kg.gql(CreateDeployment, { input: { projectId: a.id, name: 'dep', model: 'm', upstreamUrl: 'http://127.0.0.1:9', apiKeyIds: [unknown] } });
    expect(errorCode(missing)).toBe('NOT_FOUND');
    const wrongType = await t.kg.gql(CreateDeployment, { input: { projectId: a.id, name: 'dep', model: 'm', upstreamUrl: 'http://127.0.0.1:9', apiKeyIds: [a.id] } });
    expect([errorCode(wrongType), errorField(wrongType)]).toEqual(['BAD_USER_INPUT', 'apiKeyIds']);
  });
});

describe('updateDeployment and deleteDeployment', () => {
  it('updates model and upstream; no change takes no revision; null is rejected', async () => {
    const project = await createProject(t.kg);
    const d = await createDeployment(t.kg, project.id, 'upd');
    const r = await t.kg.gql(UpdateDeployment, { input: { id: d.id, model: 'mistral-7b', upstreamUrl: 'http://127.0.0.1:10/v2' } });
    expect(r.data?.updateDeployment.deployment).toMatchObject({ model: 'mistral-7b', upstreamUrl: 'http://127.0.0.1:10/v2' });
    const same = await t.kg.gql(UpdateDeployment, { input: { id: d.id, model: 'mistral-7b' } });
    expect(same.data?.updateDeployment.propagation.revision).toBe(r.data?.updateDeployment.propagation.revision);
    expect(errorField(await t.kg.gql(UpdateDeployment, { input: { id: d.id, model: null } }))).toBe('model');
    expect(errorField(await t.kg.gql(UpdateDeployment, { input: { id: d.id, upstreamUrl: 'gopher://x' } }))).toBe('upstreamUrl');
  });

  it('deletes a deployment and keeps its keys', async () => {
    const project = await createProject(t.kg);
    const k = await createKey(t.kg, project.id, 'survivor');
    const d = await createDeployment(t.kg, project.id, 'doomed', { apiKeyIds: [k.apiKey.id] });
    const r = await t.kg.gql(DeleteDeployment, { input: { id: d.id } });
    expect(r.data?.deleteDeployment.deletedDeploymentId).toBe(d.id);
    expect((await t.kg.gql(Node, { id: d.id })).data?.node).toBeNull();
    expect((await t.kg.gql(Node, { id: k.apiKey.id })).data?.node).toMatchObject({ name: 'survivor' });
    expect(errorCode(await t.kg.gql(DeleteDeployment, { input: { id: d.id } }))).toBe('NOT_FOUND');
  });
});

describe('setDeploymentAuth, linkApiKey, unlinkApiKey', () => {
  it('saves the toggle and the linked set at once; omitted apiKeyIds keep the links', async () => {
    const project = await createProject(t.kg);
    const a = await createKey(t.kg, project.id, 'key-a');
    const b = await createKey(t.kg, project.id, 'key-b');
    const d = await createDeployment(t.kg, project.id, 'tab', { apiKeyIds: [a.apiKey.id] });
    const on = await t.kg.gql(SetDeploymentAuth, { input: { deploymentId: d.id, enabled: true, apiKeyIds: [b.apiKey.id] } });
    expect(on.data?.setDeploymentAuth.deployment.authEnabled).toBe(true);
    expect(on.data?.setDeploymentAuth.deployment.apiKeys.map((k) => k.name)).toEqual(['key-b']);
    // Disabling keeps the links, so re-enabling restores them.
    const off = await t.kg.gql(SetDeploymentAuth, { input: { deploymentId: d.id, enabled: false } });
    expect(off.data?.setDeploymentAuth.deployment).toMatchObject({ authEnabled: false, apiKeys: [{ name: 'key-b' }] });
    const again = await t.kg.gql(SetDeploymentAuth, { input: { deploymentId: d.id, enabled: false } });
    expect(again.data?.setDeploymentAuth.propagation.revision).toBe(off.data?.setDeploymentAuth.propagation.revision);
    const cleared = await t.kg.gql(SetDeploymentAuth, { input: { deploymentId: d.id, enabled: true, apiKeyIds: [] } });
    expect(cleared.data?.setDeploymentAuth.deployment).toMatchObject({ authEnabled: true, apiKeys: [] });
  });

  it('links and unlinks idempotently, one revision per real change', async () => {
    const project = await createProject(t.kg);
    const k = await createKey(t.kg, project.id, 'linkable');
    const d = await createDeployment(t.kg, project.id, 'target');
    const linked = await t.kg.gql(LinkApiKey, { input: { deploymentId: d.id, apiKeyId: k.apiKey.id } });
    expect(linked.data?.linkApiKey.deployment.apiKeys).toEqual([{ id: k.apiKey.id }]);
    expect(linked.data?.linkApiKey.apiKey.deployments).toEqual([{ id: d.id }]);
    const twice = await t.kg.gql(LinkApiKey, { input: { deploymentId: d.id, apiKeyId: k.apiKey.id } });
    expect(twice.errors).toBeUndefined();
    expect(twice.data?.linkApiKey.propagation.revision).toBe(linked.data?.linkApiKey.propagation.revision);
    const unlinked = await t.kg.gql(UnlinkApiKey, { input: { deploymentId: d.id, apiKeyId: k.apiKey.id } });
    expect(unlinked.data?.unlinkApiKey.deployment.apiKeys).toEqual([]);
    expect(unlinked.data?.unlinkApiKey.propagation.revision).toBe(linked.data!.linkApiKey.propagation.revision + 1);
    const again = await t.kg.gql(UnlinkApiKey, { input: { deploymentId: d.id, apiKeyId: k.apiKey.id } });
    expect(again.errors).toBeUndefined();
    expect(again.data?.unlinkApiKey.propagation.revision).toBe(unlinked.data?.unlinkApiKey.propagation.revision);
  });

  it('refuses links across projects and unknown ids', async () => {
    const a = await createProject(t.kg);
    const b = await createProject(t.kg);
    const k = await createKey(t.kg, b.id, 'other-key');
    const d = await createDeployment(t.kg, a.id, 'mine');
    const cross = await t.kg.gql(LinkApiKey, { input: { deploymentId: d.id, apiKeyId: k.apiKey.id } });
    expect([errorCode(cross), errorField(cross)]).toEqual(['CONFLICT', 'apiKeyId']);
    const unknown = Buffer.from('Deployment:00000000-0000-7000-8000-000000000000').toString('base64');
    const missing = await t.kg.gql(LinkApiKey, { input: { deploymentId: unknown, apiKeyId: k.apiKey.id } });
    expect([errorCode(missing), errorField(missing)]).toEqual(['NOT_FOUND', 'deploymentId']);
  });

  it('serialises concurrent link changes so every event carries the full linked set', async () => {
    const project = await createProject(t.kg);
    const keys = await Promise.all(Array.from({ length: 8 }, (_, i) => createKey(t.kg, project.id, `race-${i}`)));
    const d = await createDeployment(t.kg, project.id, 'race');
    const results = await Promise.all(keys.map((k) => t.kg.gql(LinkApiKey, { input: { deploymentId: d.id, apiKeyId: k.apiKey.id } })));
    expect(results.every((r) => !r.errors)).toBe(true);
    const revisions = results.map((r) => r.data!.linkApiKey.propagation.revision).sort((x, y) => x - y);
    expect(new Set(revisions).size).toBe(8);
    const last = results.find((r) => r.data!.linkApiKey.propagation.revision === revisions[7]);
    expect(last!.data!.linkApiKey.deployment.apiKeys).toHaveLength(8);
  });
});

describe('upstream targets', () => {
  it.each(['http://169.254.169.254/latest/meta-data', 'http://[fe80::1]:8080/v1', 'http://[::ffff:169.254.169.254]/'])(
    'refuses the link-local or metadata upstream %s at create and update time',
    async (upstreamUrl) => {
      const project = await createProject(t.kg);
      const created = await t.kg.gql(CreateDeployment, { input: { projectId: project.id, name: 'meta', model: 'm', upstreamUrl } });
      expect([errorCode(created), errorField(created)]).toEqual(['BAD_USER_INPUT', 'upstreamUrl']);
      const d = await createDeployment(t.kg, project.id, 'ok-first');
      const updated = await t.kg.gql(UpdateDeployment, { input: { id: d.id, upstreamUrl } });
      expect([errorCode(updated), errorField(updated)]).toEqual(['BAD_USER_INPUT', 'upstreamUrl']);
    },
  );
});
