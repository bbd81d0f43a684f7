import { describe, expect, it } from 'vitest';
import { issueSecret } from '../../src/domain/secrets.ts';
import { AuthTable } from '../../src/proxy/auth-table.ts';
import { authorizeRequest, KeyMemo } from '../../src/proxy/authorize.ts';
import { keygateBearer, readCredentials } from '../../src/proxy/credentials.ts';
import { makeWorld } from './helpers.ts';

const world = makeWorld({ chat: 'http://127.0.0.1:9' });
const table = new AuthTable();
table.load(world.snapshot);
const chat = table.findDeployment('acme', 'chat')!;
const open = table.findDeployment('acme', 'open')!;
const now = Date.now();

const MISSING = { ok: false, status: 401, code: 'missing_api_key' };
const INVALID = { ok: false, status: 401, code: 'invalid_api_key' };
const ok = (keyId: string | null) => ({ ok: true, keyId });

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
    ['malformed key (checksum)', ['X-API-Key', corrupt(world.linked.secret)], INVALID],
    ['malformed key (shape)', ['X-API-Key', 'kg_short'], INVALID],
    ['malformed keygate Bearer', ['Authorization', 'Bearer kg_nope'], INVALID],
    ['unknown key', ['X-API-Key', issueSecret('kg_').secret], INVALID],
    ['key of the project, not linked', ['X-API-Key', world.unlinked.secret], INVALID],
    ['expired key', ['X-API-Key', world.expired.secret], INVALID],
    ['key of another project', ['X-API-Key', world.otherProject.secret], INVALID],
    ['an access token instead of a key', ['Authorization', `Bearer ${issueSecret('kgat_').secret}`], INVALID],
    ['two X-API-Key headers, both valid', ['X-API-Key', world.linked.secret, 'X-API-Key', world.linked.secret], INVALID],
    ['two X-API-Key headers, one empty', ['X-API-Key', '', 'X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
    ['two Authorization headers when Authorization is read', ['Authorization', `Bearer ${world.linked.secret}`, 'Authorization', `Bearer ${world.linked.secret}`], INVALID],
    ['Basic alone', ['Authorization', 'Basic dXNlcjpwYXNz'], INVALID],
    ['a non-keygate Bearer alone', ['Authorization', 'Bearer sk-upstream-token'], INVALID],
    ['X-API-Key wins over a bad Bearer', ['Authorization', 'Bearer kg_garbage', 'X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
    ['X-API-Key wins over a good Bearer', ['Authorization', `Bearer ${world.linked.secret}`, 'X-API-Key', world.unlinked.secret], INVALID],
    ['X-API-Key wins over two Authorization headers', ['Authorization', 'Basic a', 'Authorization', 'Basic b', 'X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
    ['empty X-API-Key falls back to Bearer', ['X-API-Key', '', 'Authorization', `Bearer ${world.linked.secret}`], ok(world.keyIds.linked)],
  ])('%s', (_name, rawHeaders, expected) => {
    expect(authorizeRequest(table, chat, rawHeaders, now)).toEqual(expected);
  });

  it('gives the same answers through the key memo of one connection, request after request', () => {
    // Every row of the table above, in sequence on one memo, then again in reverse: a remembered
    // key never stands in for another, and a malformed one stays refused.
    const memo = new KeyMemo();
    const rows: [string[], object][] = [
      [['X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
      [['X-API-Key', corrupt(world.linked.secret)], INVALID],
      [['X-API-Key', world.linked.secret], ok(world.keyIds.linked)],
      [['X-API-Key', world.unlinked.secret], INVALID],
      [['X-API-Key', world.expiring.secret], ok(world.keyIds.expiring)],
      [['X-API-Key', world.otherProject.secret], INVALID],
      [['Authorization', `Bearer ${world.linked.secret}`], ok(world.keyIds.linked)],
      [[], MISSING],
    ];
    for (const [headers, expected] of [...rows, ...rows.reverse()]) expect(authorizeRequest(table, chat, headers, now, memo)).toEqual(expected);
  });

  it('checks expiry at request time', () => {
    const expiresAt = table.findKeyByHash(world.expiring.hash)!.expiresAtMs;
    const headers = ['X-API-Key', world.expiring.secret];
    expect(authorizeRequest(table, chat, headers, expiresAt - 1)).toEqual(ok(world.keyIds.expiring));
    expect(authorizeRequest(table, chat, headers, expiresAt)).toEqual(INVALID);
  });

  it('a deleted key no longer authorizes', () => {
    const t = new AuthTable();
    t.load(world.snapshot);
    t.applyChange({ revision: 11, projectId: 'p', type: 'API_KEY_DELETED', actor: null, at: '', payload: { apiKeyId: world.keyIds.linked, deleted: true } });
    expect(authorizeRequest(t, t.findDeployment('acme', 'chat')!, ['X-API-Key', world.linked.secret], now)).toEqual(INVALID);
  });

  it('one identical refusal for every invalid key', () => {
    const refusals = [world.unlinked, world.expired, world.otherProject, issueSecret('kg_')].map((s) =>
      authorizeRequest(table, chat, ['X-API-Key', s.secret], now),
    );
    for (const r of refusals) expect(r).toBe(refusals[0]);
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
    expect(authorizeRequest(table, open, rawHeaders, now)).toEqual(ok(null));
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
