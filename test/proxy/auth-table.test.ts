import { describe, expect, it } from 'vitest';
import { issueSecret } from '../../src/domain/secrets.ts';
import type { ChangeEvent, ChangePayload, ChangeType, DeploymentState } from '../../src/feed/events.ts';
import { AuthTable, type DeploymentEntry } from '../../src/proxy/auth-table.ts';
import { P1, P2, makeWorld } from './helpers.ts';

const event = (revision: number, type: ChangeType, payload: ChangePayload): ChangeEvent => ({
  revision,
  projectId: P1,
  type,
  actor: 'test',
  at: new Date().toISOString(),
  payload,
});

function loaded() {
  const world = makeWorld({ chat: 'http://127.0.0.1:9/base' });
  const table = new AuthTable();
  table.load(world.snapshot);
  return { world, table };
}

const chatState = (apiKeyIds: string[], patch: Partial<DeploymentState> = {}): DeploymentState => ({
  id: 'd-chat',
  projectId: P1,
  projectSlug: 'acme',
  name: 'chat',
  upstreamUrl: 'http://127.0.0.1:9/base',
  authEnabled: true,
  apiKeyIds,
  ...patch,
});

describe('AuthTable', () => {
  it('loads a snapshot: revision, deployments by lowercase route, keys by hash', () => {
    const { world, table } = loaded();
    expect(table.revision).toBe(10);
    expect(table.deploymentCount).toBe(3);
    expect(table.keyCount).toBe(5);
    const chat = table.findDeployment('acme', 'chat')!;
    expect(chat.id).toBe('d-chat');
    expect(chat.label).toBe('acme/chat');
    expect(chat.upstream?.pathname).toBe('/base');
    expect(chat.keyIds.has(world.keyIds.linked)).toBe(true);
    expect(table.findDeployment('globex', 'chat')?.id).toBe('d-other');
    expect(table.findDeployment('acme', 'nope')).toBeUndefined();
    expect(table.findKeyByHash(world.linked.hash)?.id).toBe(world.keyIds.linked);
    expect(table.findKeyByHash(issueSecret('kg_').hash)).toBeUndefined();
  });

  it('stores names as lowercase whatever case the feed sends', () => {
    const table = new AuthTable();
    table.load({ revision: 1, apiKeys: [], deployments: [chatState([], { projectSlug: 'ACME', name: 'Chat' })] });
    expect(table.findDeployment('acme', 'chat')?.id).toBe('d-chat');
  });

  it('finds a key stored with an uppercase hash by its lowercase hash', () => {
    const table = new AuthTable();
    const s = issueSecret('kg_');
    table.load({ revision: 1, apiKeys: [{ id: 'a', projectId: P1, hash: s.hash.toUpperCase(), expiresAt: null }], deployments: [] });
    expect(table.findKeyByHash(s.hash)?.id).toBe('a');
  });

  it('parses expiresAt once; null never expires, garbage counts as expired', () => {
    const table = new AuthTable();
    const s = issueSecret('kg_');
    const t = issueSecret('kg_');
    table.load({
      revision: 1,
      apiKeys: [
        { id: 'a', projectId: P1, hash: s.hash, expiresAt: null },
        { id: 'b', projectId: P1, hash: t.hash, expiresAt: 'not a date' },
      ],
      deployments: [],
    });
    expect(table.findKeyByHash(s.hash)?.expiresAtMs).toBe(Infinity);
    expect(table.findKeyByHash(t.hash)?.expiresAtMs).toBe(-Infinity);
  });

  it('upserts a key from payload.apiKey, also for API_KEY_EXPIRED', () => {
    const { world, table } = loaded();
    const fresh = issueSecret('kg_');
    expect(table.applyChange(event(11, 'API_KEY_CREATED', { apiKeyId: 'k-new', apiKey: { id: 'k-new', projectId: P1, hash: fresh.hash, expiresAt: null } }))).toBe(true);
    expect(table.findKeyByHash(fresh.hash)?.id).toBe('k-new');
    const past = new Date(Date.now() - 1000).toISOString();
    table.applyChange(event(12, 'API_KEY_EXPIRED', { apiKeyId: world.keyIds.linked, apiKey: { id: world.keyIds.linked, projectId: P1, hash: world.linked.hash, expiresAt: past } }));
    expect(table.findKeyByHash(world.linked.hash)?.expiresAtMs).toBe(Date.parse(past));
    expect(table.revision).toBe(12);
  });

  it('replaces a deployment with its full linked set and its new route', () => {
    const { world, table } = loaded();
    table.applyChange(event(11, 'API_KEY_UNLINKED', { apiKeyId: world.keyIds.linked, deploymentId: 'd-chat', deployment: chatState([world.keyIds.expired]) }));
    const chat = table.findDeployment('acme', 'chat')!;
    expect([...chat.keyIds]).toEqual([world.keyIds.expired]);

    table.applyChange(event(12, 'DEPLOYMENT_UPDATED', { deploymentId: 'd-chat', deployment: chatState([], { name: 'chat2' }) }));
    expect(table.findDeployment('acme', 'chat')).toBeUndefined();
    expect(table.findDeployment('acme', 'chat2')?.id).toBe('d-chat');
  });

  it('applies payload.deployments (the side effects of a forced key delete) and removes the key', () => {
    const { world, table } = loaded();
    table.applyChange(
      event(11, 'API_KEY_DELETED', {
        apiKeyId: world.keyIds.linked,
        deleted: true,
        deployments: [
          chatState([world.keyIds.expired, world.keyIds.expiring]),
          { ...chatState([]), id: 'd-open', name: 'open', authEnabled: false },
        ],
      }),
    );
    expect(table.findKeyByHash(world.linked.hash)).toBeUndefined();
    expect(table.findDeployment('acme', 'chat')!.keyIds.has(world.keyIds.linked)).toBe(false);
    expect(table.findDeployment('acme', 'open')!.keyIds.size).toBe(0);
  });

  it('a deleted key leaves every linked set even when the event lists no deployments', () => {
    const { world, table } = loaded();
    table.applyChange(event(11, 'API_KEY_DELETED', { apiKeyId: world.keyIds.linked, deleted: true }));
    expect(table.findKeyByHash(world.linked.hash)).toBeUndefined();
    expect(table.findDeployment('acme', 'chat')!.keyIds.has(world.keyIds.linked)).toBe(false);
    expect(table.findDeployment('acme', 'open')!.keyIds.has(world.keyIds.linked)).toBe(false);
  });

  it('removes a deployment on deleted + deploymentId', () => {
    const { table } = loaded();
    table.applyChange(event(11, 'DEPLOYMENT_DELETED', { deploymentId: 'd-chat', deleted: true }));
    expect(table.findDeployment('acme', 'chat')).toBeUndefined();
    expect(table.findDeployment('acme', 'open')).toBeDefined();
    expect(table.deploymentCount).toBe(2);
  });

  it('ignores events at or below its revision', () => {
    const { table } = loaded();
    expect(table.applyChange(event(10, 'DEPLOYMENT_DELETED', { deploymentId: 'd-chat', deleted: true }))).toBe(false);
    expect(table.findDeployment('acme', 'chat')).toBeDefined();
    expect(table.revision).toBe(10);
  });

  it('load replaces everything', () => {
    const { table } = loaded();
    table.load({ revision: 20, apiKeys: [], deployments: [chatState([], { projectId: P2, projectSlug: 'globex', name: 'x', id: 'd-x' })] });
    expect(table.revision).toBe(20);
    expect(table.keyCount).toBe(0);
    expect(table.findDeployment('acme', 'chat')).toBeUndefined();
    expect(table.findDeployment('globex', 'x')).toBeDefined();
  });

  it('tells listeners when a route or upstream leaves, and tracks origins in use', () => {
    const { table } = loaded();
    const retired: DeploymentEntry[] = [];
    table.onRetired((d) => retired.push(d));
    table.applyChange(event(11, 'DEPLOYMENT_UPDATED', { deploymentId: 'd-chat', deployment: chatState([]) }));
    expect(retired).toHaveLength(0); // same route, same upstream
    table.applyChange(event(12, 'DEPLOYMENT_UPDATED', { deploymentId: 'd-chat', deployment: chatState([], { upstreamUrl: 'http://127.0.0.1:10/' }) }));
    expect(retired.map((d) => d.origin)).toEqual(['http://127.0.0.1:9']);
    expect(table.usesOrigin('http://127.0.0.1:9')).toBe(true); // open and globex/chat still use it
    expect(table.usesOrigin('http://127.0.0.1:10')).toBe(true);
    table.applyChange(event(13, 'DEPLOYMENT_DELETED', { deploymentId: 'd-chat', deleted: true }));
    expect(table.usesOrigin('http://127.0.0.1:10')).toBe(false);
    expect(retired).toHaveLength(2);
  });

  it('an upstream URL that does not parse leaves the deployment routable with no upstream', () => {
    const table = new AuthTable();
    table.load({ revision: 1, apiKeys: [], deployments: [chatState([], { upstreamUrl: 'not a url' })] });
    expect(table.findDeployment('acme', 'chat')?.upstream).toBeNull();
  });

  it('a snapshot load parses each upstream URL once: entries with the same URL share it', () => {
    const table = new AuthTable();
    table.load({
      revision: 1,
      apiKeys: [],
      deployments: [
        chatState([], { upstreamUrl: 'http://127.0.0.1:9/base' }),
        chatState([], { id: 'd-two', name: 'two', upstreamUrl: 'http://127.0.0.1:9/base' }),
        chatState([], { id: 'd-three', name: 'three', upstreamUrl: 'http://127.0.0.1:10/' }),
      ],
    });
    const [chat, two, three] = ['chat', 'two', 'three'].map((n) => table.findDeployment('acme', n)!);
    expect(two!.upstream).toBe(chat!.upstream);
    expect(two!.origin).toBe('http://127.0.0.1:9');
    expect(three!.upstream).not.toBe(chat!.upstream);
    expect(three!.origin).toBe('http://127.0.0.1:10');
    // A later change parses its own: the shared one is never changed under the others.
    table.applyChange(event(2, 'DEPLOYMENT_UPDATED', { deploymentId: 'd-two', deployment: chatState([], { id: 'd-two', name: 'two', upstreamUrl: 'http://127.0.0.1:11/x' }) }));
    expect(table.findDeployment('acme', 'two')!.upstream?.href).toBe('http://127.0.0.1:11/x');
    expect(table.findDeployment('acme', 'chat')!.upstream?.href).toBe('http://127.0.0.1:9/base');
  });

  it('keeps a linked id whatever the key table holds, and authorizes by it once the key arrives', () => {
    const table = new AuthTable();
    const s = issueSecret('kg_');
    table.load({ revision: 1, apiKeys: [], deployments: [chatState(['k-later'])] });
    expect(table.findDeployment('acme', 'chat')!.keyIds.has('k-later')).toBe(true);
    table.applyChange(event(2, 'API_KEY_CREATED', { apiKeyId: 'k-later', apiKey: { id: 'k-later', projectId: P1, hash: s.hash, expiresAt: null } }));
    const key = table.findKeyByHash(s.hash)!;
    expect(key.projectId).toBe(P1);
    expect(table.findDeployment('acme', 'chat')!.keyIds.has(key.id)).toBe(true);
  });

  it('collects used key ids until drained, once each', () => {
    const table = new AuthTable();
    table.recordUse('a');
    table.recordUse('b');
    table.recordUse('a');
    expect([...table.drainUsed()].sort()).toEqual(['a', 'b']);
    expect(table.drainUsed().size).toBe(0);
  });
});
