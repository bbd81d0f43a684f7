import { describe, expect, it } from 'vitest';
import { issueSecret } from '../../src/domain/secrets.ts';
import { AuthTable } from '../../src/proxy/auth-table.ts';
import { type AuthResult, authorizeRequest, KeyMemo, type RefusalReason } from '../../src/proxy/authorize.ts';
import { keygateBearer, readCredentials } from '../../src/proxy/credentials.ts';
import { makeWorld } from './helpers.ts';

const world = makeWorld({ chat: 'http://127.0.0.1:9' });
const table = new AuthTable();
table.load(world.snapshot);
const chat = table.findDeployment('acme', 'chat')!;
const open = table.findDeployment('acme', 'open')!;
const now = Date.now();

const MISSING = { ok: false, status: 401, code: 'missing_api_key', reason: 'missing' };
/** one public answer, with the reason that only metrics and logs see */
const invalid = (reason: RefusalReason) => ({ ok: false, status: 401, code: 'invalid_api_key', reason });
const MALFORMED = invalid('malformed');
const ok = (keyId: string | null) => ({ ok: true, keyId });
/** what a caller of authorizeRequest acts on */
const seen = (r: AuthResult) => (r.ok ? { ok: true, keyId: r.key?.id ?? null } : { ok: false, status: r.status, code: r.code, reason: r.reason });
const authorize = (...args: Parameters<typeof authorizeRequest>) => seen(authorizeRequest(...args));

/** Breaks the checksum without changing the shape. */
function corrupt(secret: string): string {
  const last = secret.at(-1)!;
  return secret.slice(0, -1) + (last === 'a' ? 'b' : 'a');
}

describe('authorizeRequest on a guarded deployment', () => {
  it.each<[string, string[], object]>([
    ['no key at all', [], MISSING],
    ['only an empty X-API-Key', ['X-API-Key', ''], MISSING],
    ['linked key in X-API-Key', ['X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
    ['linked key, header name in any case', ['x-API-key', world.linked.secret], ok(world.keyIds.linked)],
    ['linked key as Bearer', ['Authorization', `Bearer ${world.linked.secret}`], ok(world.keyIds.linked)],
    ['linked key as bearer, any case and spacing', ['authorization', `bearer   ${world.linked.secret} `], ok(world.keyIds.linked)],
    ['key expiring later', ['X-API-Key', world.expiring.secret], ok(world.keyIds.expiring)],
    ['malformed key (checksum)', ['X-API-Key', corrupt(world.linked.secret)], MALFORMED],
    ['malformed key (shape)', ['X-API-Key', 'kg_short'], MALFORMED],
    ['malformed keygate Bearer', ['Authorization', 'Bearer kg_nope'], MALFORMED],
    ['unknown key', ['X-API-Key', issueSecret('kg_').secret], invalid('unknown')],
    ['key of the project, not linked', ['X-API-Key', world.unlinked.secret], invalid('not_linked')],
    ['expired key', ['X-API-Key', world.expired.secret], invalid('expired')],
    ['key of another project', ['X-API-Key', world.otherProject.secret], invalid('other_project')],
    ['an access token instead of a key', ['Authorization', `Bearer ${issueSecret('kgat_').secret}`], MALFORMED],
    ['two X-API-Key headers, both valid', ['X-API-Key', world.linked.secret, 'X-API-Key', world.linked.secret], MALFORMED],
    ['two X-API-Key headers, one empty', ['X-API-Key', '', 'X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
    ['two Authorization headers when Authorization is read', ['Authorization', `Bearer ${world.linked.secret}`, 'Authorization', `Bearer ${world.linked.secret}`], MALFORMED],
    ['Basic alone', ['Authorization', 'Basic dXNlcjpwYXNz'], MALFORMED],
    ['a non-keygate Bearer alone', ['Authorization', 'Bearer sk-upstream-token'], MALFORMED],
    ['X-API-Key wins over a bad Bearer', ['Authorization', 'Bearer kg_garbage', 'X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
    ['X-API-Key wins over a good Bearer', ['Authorization', `Bearer ${world.linked.secret}`, 'X-API-Key', world.unlinked.secret], invalid('not_linked')],
    ['X-API-Key wins over two Authorization headers', ['Authorization', 'Basic a', 'Authorization', 'Basic b', 'X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
    ['empty X-API-Key falls back to Bearer', ['X-API-Key', '', 'Authorization', `Bearer ${world.linked.secret}`], ok(world.keyIds.linked)],
  ])('%s', (_name, rawHeaders, expected) => {
    expect(authorize(table, chat, rawHeaders, now)).toEqual(expected);
  });

  it('gives the same answers through the key memo of one connection, request after request', () => {
    // Every row of the table above, in sequence on one memo, then again in reverse: a remembered
    // key never stands in for another, and a malformed one stays refused.
    const memo = new KeyMemo();
    const rows: [string[], object][] = [
      [['X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
      [['X-API-Key', corrupt(world.linked.secret)], MALFORMED],
      [['X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
      [['X-API-Key', world.unlinked.secret], invalid('not_linked')],
      [['X-API-Key', world.expiring.secret], ok(world.keyIds.expiring)],
      [['X-API-Key', world.otherProject.secret], invalid('other_project')],
      [['Authorization', `Bearer ${world.linked.secret}`], ok(world.keyIds.linked)],
      [[], MISSING],
    ];
    for (const [headers, expected] of [...rows, ...rows.reverse()]) expect(authorize(table, chat, headers, now, memo)).toEqual(expected);
  });

  it('checks expiry at request time', () => {
    const expiresAt = table.findKeyByHash(world.expiring.hash)!.expiresAtMs;
    const headers = ['X-API-Key', world.expiring.secret];
    expect(authorize(table, chat, headers, expiresAt - 1)).toEqual(ok(world.keyIds.expiring));
    expect(authorize(table, chat, headers, expiresAt)).toEqual(invalid('expired'));
  });

  it('a deleted key no longer authorizes', () => {
    const t = new AuthTable();
    t.load(world.snapshot);
    t.applyChange({ revision: 11, projectId: 'p', type: 'API_KEY_DELETED', actor: null, at: '', payload: { apiKeyId: world.keyIds.linked, deleted: true } });
    expect(authorize(t, t.findDeployment('acme', 'chat')!, ['X-API-Key', world.linked.secret], now)).toEqual(invalid('unknown'));
  });

  it('one identical public refusal for every invalid key; the reasons differ for the operator only', () => {
    const refusals = [world.unlinked, world.expired, world.otherProject, issueSecret('kg_')].map((s) =>
      authorizeRequest(table, chat, ['X-API-Key', s.secret], now),
    );
    for (const r of refusals) expect(r.ok ? null : [r.status, r.code]).toEqual([401, 'invalid_api_key']);
    expect(refusals.map((r) => (r.ok ? null : r.reason))).toEqual(['not_linked', 'expired', 'other_project', 'unknown']);
    // A known key's name is there for the access log; never its secret.
    expect(refusals.map((r) => r.key?.id ?? null)).toEqual([world.keyIds.unlinked, world.keyIds.expired, world.keyIds.otherProject, null]);
  });
});

describe('authorizeRequest on an open deployment', () => {
  it.each<[string, string[]]>([
    ['no key', []],
    ['Basic', ['Authorization', 'Basic dXNlcjpwYXNz']],
    ['another Bearer', ['Authorization', 'Bearer sk-upstream']],
    ['a garbage key', ['X-API-Key', 'nope']],
    ['duplicated headers', ['X-API-Key', 'a', 'X-API-Key', 'b']],
  ])('passes with %s', (_name, rawHeaders) => {
    expect(authorize(table, open, rawHeaders, now)).toEqual(ok(null));
  });
});

describe('credentials', () => {
  it('tells keygate bearers from others', () => {
    expect(keygateBearer(`Bearer ${world.linked.secret}`)).toBe(world.linked.secret);
    expect(keygateBearer('Bearer kg_x')).toBe('kg_x');
    expect(keygateBearer('Bearer sk-123')).toBeNull();
    expect(keygateBearer('Basic kg_x')).toBeNull();
    expect(keygateBearer('Bearer')).toBeNull();
  });

  it('reads what each header form means', () => {
    expect(readCredentials([])).toEqual({ kind: 'none' });
    expect(readCredentials(['Authorization', 'Basic x'])).toEqual({ kind: 'foreign' });
    expect(readCredentials(['x-api-key', 'a', 'X-Api-Key', 'b'])).toEqual({ kind: 'duplicated' });
    expect(readCredentials(['x-api-key', ' k '])).toEqual({ kind: 'key', secret: 'k' });
  });
});

describe('authorizeRequest during and after a rotation overlap', () => {
  const rotation = () => {
    const before = issueSecret('kg_');
    const after = issueSecret('kg_');
    const end = now + 60_000;
    const t = new AuthTable();
    t.load(world.snapshot);
    const linked = t.findKeyByHash(world.linked.hash)!;
    // The rotated key: a new hash, the old one still working until `end`.
    const rotated = { id: linked.id, projectId: linked.projectId, hash: after.hash, expiresAt: null, previousHash: before.hash, previousExpiresAt: new Date(end).toISOString() };
    t.applyChange({ revision: 11, projectId: linked.projectId, type: 'API_KEY_UPDATED', actor: null, at: new Date().toISOString(), payload: { apiKeyId: linked.id, apiKey: { ...rotated, hash: before.hash, previousHash: null, previousExpiresAt: null } } });
    t.applyChange({ revision: 12, projectId: linked.projectId, type: 'API_KEY_ROTATED', actor: null, at: new Date().toISOString(), payload: { apiKeyId: linked.id, apiKey: rotated } });
    return { t, before, after, end, deployment: t.findDeployment('acme', 'chat')! };
  };

  it('admits both secrets until the end, says which one was used, then refuses the previous one as rotated_out', () => {
    const { t, before, after, end, deployment } = rotation();
    const viaPrevious = (secret: string, at: number) => {
      const r = authorizeRequest(t, deployment, ['X-API-Key', secret], at);
      return r.ok ? { ok: true, keyId: r.key?.id, viaPrevious: r.viaPrevious } : { ok: false, reason: r.reason };
    };
    expect(viaPrevious(after.secret, end - 1)).toEqual({ ok: true, keyId: world.keyIds.linked, viaPrevious: false });
    expect(viaPrevious(before.secret, end - 1)).toEqual({ ok: true, keyId: world.keyIds.linked, viaPrevious: true });
    expect(viaPrevious(before.secret, end)).toEqual({ ok: false, reason: 'rotated_out' });
    expect(viaPrevious(after.secret, end + 1)).toEqual({ ok: true, keyId: world.keyIds.linked, viaPrevious: false });
    // The old secret of the world's snapshot is gone from the table altogether.
    expect(viaPrevious(world.linked.secret, end - 1)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('a rotation without overlap, or a second one, takes the older hashes out of the table', () => {
    const { t, before, after } = rotation();
    const key = t.findKeyByHash(after.hash)!;
    const third = issueSecret('kg_');
    t.applyChange({
      revision: 13,
      projectId: key.projectId,
      type: 'API_KEY_ROTATED',
      actor: null,
      at: new Date().toISOString(),
      payload: { apiKeyId: key.id, apiKey: { id: key.id, projectId: key.projectId, hash: third.hash, expiresAt: null, previousHash: null, previousExpiresAt: null } },
    });
    expect(t.findKeyByHash(before.hash)).toBeUndefined();
    expect(t.findKeyByHash(after.hash)).toBeUndefined();
    expect(t.findKeyByHash(third.hash)).toMatchObject({ id: key.id, previousHash: null, previousExpiresAtMs: -Infinity });
    expect(t.toSnapshot().apiKeys.find((k) => k.id === key.id)).toMatchObject({ hash: third.hash, previousHash: null, previousExpiresAt: null });
  });

  it('an open deployment admits without a key and without viaPrevious', () => {
    expect(authorizeRequest(table, open, [], now)).toEqual({ ok: true, key: null, viaPrevious: false });
  });
});
