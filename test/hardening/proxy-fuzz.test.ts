// Generated requests (fast-check) against the proxy's real request path: createProxyServer over a
// table of several projects, guarded and open deployments, keys linked, unlinked, expired, deleted
// and never issued (the table loaded from a snapshot, then changed by events: a key unlinked, a key
// deleted, a deployment's auth turned on, a deployment deleted, a key expired), each deployment on
// its own recording upstream. Every request goes out as raw bytes on its own connection, so
// duplicated headers, obs-text, control bytes and odd request targets reach the server exactly as
// generated; some are WebSocket handshakes.
//
// The oracle (`spec`) computes the expected outcome from the DESIGN.md contract and a declarative
// model of the world, not from the proxy's table or authorizeRequest. Each request then proves:
//   - the status and error code (and the one identical invalid_api_key body) match the contract,
//     or Node's parser refused the request (400) before the proxy saw it;
//   - the upstream received the request exactly once iff the decision was to forward, on the
//     deployment's own upstream, under its base path, with the client's X-Request-Id or a new one;
//   - no upstream of a guarded deployment saw a request without a valid, linked, unexpired key of
//     its project among what was sent (checked against where the request landed, independently of
//     the spec's routing), and every upstream answer came from an upstream that saw the request;
//   - no X-API-Key and no well-formed keygate key reached an upstream, and Authorization reached it
//     exactly when it carried no keygate key;
// and each property run ends with the server still answering /-/healthz and no error having
// escaped to the process. Counterexamples are symbolic (key names, not secrets) and shrink.
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IssuedSecret, issueSecret, isWellFormedSecret } from '../../src/domain/secrets.ts';
import type { ChangeEvent, DeploymentState, KeyState, Snapshot } from '../../src/feed/events.ts';
import { ANSWERS, type ProxyErrorCode } from '../../src/proxy/answers.ts';
import { carriesKeygateKey as proxyCarriesKey } from '../../src/proxy/credentials.ts';
import { header, MARKER, type HardenedProxy, startHardenedProxy, type MarkedRequest, type MarkerUpstream, rawExchange, startMarkerUpstream, watchProcessErrors, type RawAnswer } from './proxy-helpers.ts';

// ---------- the world, declared once ----------

const KEY_NAMES = [
  'acmeChat',
  'acmeEmbed',
  'acmeBoth',
  'acmeUnlinked',
  'acmeExpired',
  'acmeExpiring',
  'acmeRevoked',
  'acmeLapsed',
  'globexChat',
  'globexDeleted',
  'initechKey',
  'stranger',
] as const;
type KeyName = (typeof KEY_NAMES)[number];

const P = { acme: 'p-acme', globex: 'p-globex', initech: 'p-initech' } as const;

interface KeyModel {
  projectId: string;
  /** in the table at the end (deleted and never-issued keys are not) */
  present: boolean;
  expired: boolean;
}

/** What the proxy should enforce once the snapshot and the change events below are applied. */
const KEYS: Record<KeyName, KeyModel> = {
  acmeChat: { projectId: P.acme, present: true, expired: false },
  acmeEmbed: { projectId: P.acme, present: true, expired: false },
  acmeBoth: { projectId: P.acme, present: true, expired: false },
  acmeUnlinked: { projectId: P.acme, present: true, expired: false },
  acmeExpired: { projectId: P.acme, present: true, expired: true },
  acmeExpiring: { projectId: P.acme, present: true, expired: false }, // in an hour
  acmeRevoked: { projectId: P.acme, present: true, expired: false }, // unlinked by an event
  acmeLapsed: { projectId: P.acme, present: true, expired: true }, // expired by an event
  globexChat: { projectId: P.globex, present: true, expired: false },
  globexDeleted: { projectId: P.globex, present: false, expired: false }, // deleted by an event
  initechKey: { projectId: P.initech, present: true, expired: false },
  stranger: { projectId: P.acme, present: false, expired: false }, // well-formed, never issued
};

interface DeploymentModel {
  projectId: string;
  auth: boolean;
  linked: ReadonlySet<KeyName>;
}

/** By "<slug>/<name>" lowercase. globex/old existed (open) and was deleted. */
const DEPLOYMENTS: Record<string, DeploymentModel> = {
  'acme/chat': { projectId: P.acme, auth: true, linked: new Set(['acmeChat', 'acmeBoth', 'acmeExpired', 'acmeExpiring', 'acmeLapsed']) },
  'acme/embed': { projectId: P.acme, auth: true, linked: new Set(['acmeEmbed', 'acmeBoth']) },
  'acme/open': { projectId: P.acme, auth: false, linked: new Set(['acmeChat']) },
  'acme/toggled': { projectId: P.acme, auth: true, linked: new Set(['acmeEmbed']) }, // auth turned on by an event
  'globex/chat': { projectId: P.globex, auth: true, linked: new Set(['globexChat']) },
  'globex/public': { projectId: P.globex, auth: false, linked: new Set() },
  'initech/llm': { projectId: P.initech, auth: true, linked: new Set() }, // stored as Initech/LLM
};
const LABELS = Object.keys(DEPLOYMENTS);
const SLUGS = ['acme', 'globex', 'initech', 'nope'] as const;
const NAMES = ['chat', 'embed', 'open', 'toggled', 'public', 'llm', 'old', 'nope'] as const;

const S = {} as Record<KeyName, string>;
const upstreams = new Map<string, MarkerUpstream>();
let proxy: HardenedProxy;
let watcher: ReturnType<typeof watchProcessErrors>;

function buildTable(issued: Record<KeyName, IssuedSecret>, urlOf: (label: string) => string): { snapshot: Snapshot; changes: ChangeEvent[] } {
  const now = Date.now();
  const key = (name: KeyName, expiresAt: number | null = null): KeyState => ({
    id: `k-${name}`,
    projectId: KEYS[name].projectId,
    hash: issued[name].hash,
    expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
  });
  const dep = (label: string, authEnabled: boolean, keys: KeyName[], stored = label): DeploymentState => {
    const [projectSlug, name] = stored.split('/') as [string, string];
    return {
      id: `d-${label}`,
      projectId: DEPLOYMENTS[label]?.projectId ?? P.globex,
      projectSlug,
      name,
      upstreamUrl: urlOf(label),
      authEnabled,
      apiKeyIds: keys.map((k) => `k-${k}`),
    };
  };
  const snapshot: Snapshot = {
    revision: 10,
    apiKeys: [
      key('acmeChat'),
      key('acmeEmbed'),
      key('acmeBoth'),
      key('acmeUnlinked'),
      key('acmeExpired', now - 60_000),
      key('acmeExpiring', now + 3_600_000),
      key('acmeRevoked'),
      key('acmeLapsed'),
      key('globexChat'),
      key('globexDeleted'),
      key('initechKey'),
    ],
    deployments: [
      dep('acme/chat', true, ['acmeChat', 'acmeBoth', 'acmeExpired', 'acmeExpiring', 'acmeLapsed', 'acmeRevoked']),
      dep('acme/embed', true, ['acmeEmbed', 'acmeBoth']),
      dep('acme/open', false, ['acmeChat']),
      dep('acme/toggled', false, []),
      dep('globex/chat', true, ['globexChat', 'globexDeleted']),
      dep('globex/public', false, []),
      dep('initech/llm', true, [], 'Initech/LLM'),
      dep('globex/old', false, []),
    ],
  };
  const event = (revision: number, type: ChangeEvent['type'], payload: ChangeEvent['payload']): ChangeEvent => ({
    revision,
    projectId: '',
    type,
    actor: null,
    at: new Date(now).toISOString(),
    payload,
  });
  const changes = [
    event(11, 'API_KEY_UNLINKED', {
      apiKeyId: 'k-acmeRevoked',
      deploymentId: 'd-acme/chat',
      deployment: dep('acme/chat', true, ['acmeChat', 'acmeBoth', 'acmeExpired', 'acmeExpiring', 'acmeLapsed']),
    }),
    event(12, 'API_KEY_DELETED', { apiKeyId: 'k-globexDeleted', deleted: true, deployments: [dep('globex/chat', true, ['globexChat'])] }),
    event(13, 'DEPLOYMENT_AUTH_CHANGED', { deploymentId: 'd-acme/toggled', deployment: dep('acme/toggled', true, ['acmeEmbed']) }),
    event(14, 'DEPLOYMENT_DELETED', { deploymentId: 'd-globex/old', deleted: true }),
    event(15, 'API_KEY_EXPIRED', { apiKeyId: 'k-acmeLapsed', apiKey: key('acmeLapsed', now - 1000) }),
  ];
  return { snapshot, changes };
}

const basePathOf = (label: string) => `/up/${label}`;

beforeAll(async () => {
  watcher = watchProcessErrors();
  const issued = {} as Record<KeyName, IssuedSecret>;
  for (const name of KEY_NAMES) {
    issued[name] = issueSecret('kg_');
    S[name] = issued[name].secret;
  }
  // One upstream per deployment (and one for the deleted one), so where a request landed is known
  // even for a request target that carries no base path (OPTIONS *).
  for (const label of [...LABELS, 'globex/old']) upstreams.set(label, await startMarkerUpstream());
  const { snapshot, changes } = buildTable(issued, (label) => `${upstreams.get(label)!.url}${basePathOf(label)}`);
  proxy = await startHardenedProxy(snapshot);
  for (const c of changes) expect(proxy.table.applyChange(c)).toBe(true);
});

afterAll(async () => {
  watcher?.stop();
  await proxy?.stop();
  await Promise.all([...upstreams.values()].map((u) => u.stop()));
});

// ---------- what gets generated ----------

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CONTROL_BYTES = [0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x0e, 0x1b, 0x1f, 0x7f];

/** A value offered as a keygate key (in X-API-Key or after a Bearer). */
type Cred =
  | { kind: 'key'; key: KeyName }
  | { kind: 'nearMiss'; key: KeyName; at: number; to: number }
  | { kind: 'badChecksum'; key: KeyName; at: number; to: number }
  | { kind: 'truncated'; key: KeyName; drop: number }
  | { kind: 'extended'; key: KeyName; extra: string }
  | { kind: 'padded'; key: KeyName; left: string; right: string }
  | { kind: 'nonAscii'; key: KeyName; at: number; byte: number }
  | { kind: 'control'; key: KeyName; at: number; byte: number }
  | { kind: 'text'; text: string }
  | { kind: 'empty' }
  | { kind: 'blank' };

type Auth =
  | { kind: 'bearer'; scheme: string; sep: string; cred: Cred; trail: string }
  | { kind: 'foreignBearer'; token: string }
  | { kind: 'basic' }
  | { kind: 'schemeKey'; scheme: string; key: KeyName }
  | { kind: 'basicKey'; user: string; key: KeyName; password: boolean }
  | { kind: 'empty' };

type Host =
  | { kind: 'deployment'; route: [string, string]; casing: Casing; dot: boolean; port: string }
  | { kind: 'other'; value: string }
  | { kind: 'absent' };

type Casing = 'lower' | 'upper' | 'mixed';

type Target =
  | { kind: 'path'; route: [string, string]; casing: Casing; rest: string[]; query: string }
  | { kind: 'internal'; which: string; query: string }
  | { kind: 'raw'; value: string; rest: string[]; query: string }
  | { kind: 'star' }
  | { kind: 'absolute'; rest: string[] };

interface Huge {
  where: 'x-api-key' | 'authorization';
  first: boolean;
  len: number;
  fill: 'a' | 'kg_' | 'key';
}

interface FuzzRequest {
  method: string;
  version: '1.1' | '1.0';
  host: Host;
  target: Target;
  apiKeys: Array<{ name: string; cred: Cred }>;
  auths: Auth[];
  authFirst: boolean;
  huge: Huge | null;
  /** a WebSocket handshake (Connection: Upgrade, Upgrade: websocket) when the method is GET */
  upgrade: boolean;
  /** X-Request-Id headers sent (kept when 1–128 characters, else replaced) */
  requestIds: string[];
}

const keyName = fc.constantFrom(...KEY_NAMES);
const latin1Text = (maxLength: number) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

const credArb: fc.Arbitrary<Cred> = fc.oneof(
  { withCrossShrink: true },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('key' as const), key: keyName }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('nearMiss' as const), key: keyName, at: fc.nat(23), to: fc.nat(61) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('badChecksum' as const), key: keyName, at: fc.nat(5), to: fc.nat(61) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncated' as const), key: keyName, drop: fc.integer({ min: 1, max: 32 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extended' as const), key: keyName, extra: fc.constantFrom('A', '0', '_', ',', ', kg_', ' x', '=') }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('padded' as const),
      key: keyName,
      left: fc.constantFrom('', ' ', '\t', '  \t', '\xa0'),
      right: fc.constantFrom('', ' ', '\t', ' \t ', '\xa0'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nonAscii' as const), key: keyName, at: fc.nat(33), byte: fc.integer({ min: 0x80, max: 0xff }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('control' as const), key: keyName, at: fc.nat(33), byte: fc.constantFrom(...CONTROL_BYTES) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('text' as const), text: latin1Text(40) }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'empty' as const }, { kind: 'blank' as const }) },
);

const authArb: fc.Arbitrary<Auth> = fc.oneof(
  { withCrossShrink: true },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('bearer' as const),
      scheme: fc.constantFrom('Bearer', 'bearer', 'BEARER', 'BeArEr'),
      sep: fc.constantFrom(' ', '  ', '\t', ' \t'),
      cred: credArb,
      trail: fc.constantFrom('', '', '', ' ', ' x', ',', ', Bearer sk-up'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('foreignBearer' as const), token: fc.oneof(fc.constant('sk-upstream-123'), latin1Text(30)) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'basic' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('schemeKey' as const), scheme: fc.constantFrom('', 'Basic ', 'Token ', 'Bearer:', 'Bearerkg '), key: keyName }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('basicKey' as const), user: fc.constantFrom('', 'user', 'kg'), key: keyName, password: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
);

const casingArb = fc.constantFrom<Casing>('lower', 'lower', 'upper', 'mixed');

/** [slug, name]: mostly deployments that exist (or existed), some that never did. */
const routeArb: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 7, arbitrary: fc.constantFrom(...[...LABELS, 'globex/old'].map((l) => l.split('/') as [string, string])) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...SLUGS), fc.constantFrom(...NAMES)) },
);

const hostArb: fc.Arbitrary<Host> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('deployment' as const),
      route: routeArb,
      casing: casingArb,
      dot: fc.boolean(),
      port: fc.constantFrom('', '', ':80', ':8080', ':', ':0', ':65535'),
    }),
  },
  {
    weight: 7,
    arbitrary: fc.record({
      kind: fc.constant('other' as const),
      value: fc.constantFrom(
        '127.0.0.1',
        '127.0.0.1:8080',
        'localhost',
        '[::1]:8080',
        '',
        'keygate.test',
        'model-chat.acme.keygate.test.evil.example',
        'model-chat.acme.other.test',
        'chat.acme.keygate.test',
        'xmodel-chat.acme.keygate.test',
        'model-chat.acme.keygate.testx',
        'model-.acme.keygate.test',
        'model-chat..keygate.test',
        'model-chat.acme.x.keygate.test',
        'model-chat.acme.keygate.test..',
        'model-chat.acme.keygate.test:80:80',
        'mod\xe9l-chat.acme.keygate.test',
        'model-chat.acme.keygate.test\xa0',
        'model-chat.ac\xe9me.keygate.test',
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'absent' as const }) },
);

const segmentArb = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.constantFrom(
      'v1',
      'chat',
      'completions',
      'models',
      '..',
      '.',
      '%2e%2e',
      '%2E%2E',
      '.%2e',
      '%2e.',
      '%2f..',
      '..%2f..',
      '..\\..',
      '%5c..',
      '',
      '%00',
      '%zz',
      '%',
      'x;y=1',
      '~u',
      '-',
      'healthz',
      'a"b<c>',
    ),
  },
  // raw obs-text, or a space that ends the target early: the parser refuses both
  { weight: 1, arbitrary: fc.constantFrom('\xe9', 'a b') },
);
const restArb = fc.array(segmentArb, { maxLength: 5 });
const queryArb = fc.constantFrom('', '', '?', '?x=1', '?a=%2e%2e/../&b=/acme/chat', '?/acme/chat', '#frag', '?q=1#f');

const targetArb: fc.Arbitrary<Target> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('path' as const), route: routeArb, casing: casingArb, rest: restArb, query: queryArb }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('internal' as const), which: fc.constantFrom('healthz', 'readyz', 'metrics', 'HEALTHZ', 'nope', ''), query: queryArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      value: fc.constantFrom('', '/', '//acme/chat', '/acme', '/acme/', '/acme//chat', '/-', '/%61cme/chat', '/acme%2fchat', '/acme/chat%2f..', '/acme?x/chat', '/acme/chat?', '/./acme/chat', '/acme/./chat', '/..'),
      rest: restArb,
      query: queryArb,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'star' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('absolute' as const), rest: restArb }) },
);

const methodArb = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD') },
  { weight: 2, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'QUERY', 'PURGE', 'MKCOL', 'LINK', 'SEARCH', 'M-SEARCH') },
  { weight: 1, arbitrary: fc.constantFrom('FOO', 'get', 'CONNECT', 'GET\xe9') },
);

const hugeArb: fc.Arbitrary<Huge | null> = fc.oneof(
  { withCrossShrink: true },
  { weight: 8, arbitrary: fc.constant(null) },
  {
    weight: 1,
    arbitrary: fc.record({
      where: fc.constantFrom('x-api-key' as const, 'authorization' as const),
      first: fc.boolean(),
      len: fc.integer({ min: 1000, max: 12_000 }),
      fill: fc.constantFrom('a' as const, 'kg_' as const, 'key' as const),
    }),
  },
);

const apiKeyNameArb = fc.constantFrom('X-API-Key', 'x-api-key', 'X-API-KEY', 'x-Api-kEY');

function requestArb(overrides: Partial<{ [K in keyof FuzzRequest]: fc.Arbitrary<FuzzRequest[K]> }> = {}): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    method: methodArb,
    version: fc.constantFrom('1.1' as const, '1.1' as const, '1.1' as const, '1.0' as const),
    host: hostArb,
    target: targetArb,
    apiKeys: fc.oneof(
      { withCrossShrink: true },
      { weight: 3, arbitrary: fc.constant<FuzzRequest['apiKeys']>([]) },
      { weight: 4, arbitrary: fc.array(fc.record({ name: apiKeyNameArb, cred: credArb }), { minLength: 1, maxLength: 1 }) },
      { weight: 1, arbitrary: fc.array(fc.record({ name: apiKeyNameArb, cred: credArb }), { minLength: 2, maxLength: 3 }) },
    ),
    auths: fc.oneof(
      { withCrossShrink: true },
      { weight: 3, arbitrary: fc.constant<Auth[]>([]) },
      { weight: 3, arbitrary: fc.array(authArb, { minLength: 1, maxLength: 1 }) },
      { weight: 1, arbitrary: fc.array(authArb, { minLength: 2, maxLength: 2 }) },
    ),
    authFirst: fc.boolean(),
    huge: hugeArb,
    requestIds: fc.oneof(
      { withCrossShrink: true },
      { weight: 4, arbitrary: fc.constant<string[]>([]) },
      { weight: 2, arbitrary: fc.array(fc.oneof(fc.constantFrom('req-1', '', ' ', 'r'.repeat(128), 'r'.repeat(129)), latin1Text(40)), { minLength: 1, maxLength: 2 }) },
    ),
    upgrade: fc.oneof({ withCrossShrink: true }, { weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    ...overrides,
  });
}

// ---------- rendering: a FuzzRequest as the bytes on the wire ----------

function recase(s: string, casing: Casing): string {
  if (casing === 'lower') return s;
  if (casing === 'upper') return s.toUpperCase();
  return [...s].map((c, i) => (i % 2 ? c.toUpperCase() : c)).join('');
}

function replaceAt(s: string, i: number, to: number): string {
  let ch = BASE62[to]!;
  if (s[i] === ch) ch = BASE62[(to + 1) % 62]!;
  return s.slice(0, i) + ch + s.slice(i + 1);
}

function credValue(c: Cred): string {
  switch (c.kind) {
    case 'key':
      return S[c.key];
    case 'nearMiss':
      return replaceAt(S[c.key], 3 + c.at, c.to); // one of the 24 random characters
    case 'badChecksum':
      return replaceAt(S[c.key], 27 + c.at, c.to); // one of the 6 checksum characters
    case 'truncated':
      return S[c.key].slice(0, -c.drop);
    case 'extended':
      return S[c.key] + c.extra;
    case 'padded':
      return c.left + S[c.key] + c.right;
    case 'nonAscii':
    case 'control':
      return S[c.key].slice(0, c.at) + String.fromCharCode(c.byte) + S[c.key].slice(c.at);
    case 'text':
      return c.text;
    case 'empty':
      return '';
    case 'blank':
      return ' \t ';
  }
}

function authValue(a: Auth): string {
  switch (a.kind) {
    case 'bearer':
      return `${a.scheme}${a.sep}${credValue(a.cred)}${a.trail}`;
    case 'foreignBearer':
      return `Bearer ${a.token}`;
    case 'basic':
      return 'Basic dXNlcjpwYXNz';
    case 'schemeKey':
      return `${a.scheme}${S[a.key]}`;
    case 'basicKey':
      // curl -u KEY: or -u user:KEY
      return `Basic ${Buffer.from(a.password ? `${a.user}:${S[a.key]}` : `${S[a.key]}:${a.user}`).toString('base64')}`;
    case 'empty':
      return '';
  }
}

function hugeValue(h: Huge): string {
  const v = h.fill === 'a' ? 'a'.repeat(h.len) : h.fill === 'kg_' ? `kg_${'A'.repeat(h.len - 3)}` : S.acmeChat.repeat(Math.ceil(h.len / 33)).slice(0, h.len);
  return h.where === 'authorization' ? `Bearer ${v}` : v;
}

function hostValue(h: Host): string | undefined {
  if (h.kind === 'absent') return undefined;
  if (h.kind === 'other') return h.value;
  return recase(`model-${h.route[1]}.${h.route[0]}.keygate.test`, h.casing) + (h.dot ? '.' : '') + h.port;
}

function targetValue(t: Target): string {
  const rest = (segs: string[]) => segs.map((s) => `/${s}`).join('');
  switch (t.kind) {
    case 'path':
      return recase(`/${t.route[0]}/${t.route[1]}`, t.casing) + rest(t.rest) + t.query;
    case 'internal':
      return `/-/${t.which}${t.query}`;
    case 'raw':
      return t.value + rest(t.rest) + t.query;
    case 'star':
      return '*';
    case 'absolute':
      return `http://model-chat.acme.keygate.test${rest(t.rest)}`;
  }
}

interface Rendered {
  method: string;
  version: string;
  target: string;
  /** as written, before the parser trims anything */
  headers: Array<[string, string]>;
  body: string;
  upgrade: boolean;
  bytes: Buffer;
}

let nextMarker = 0;

function render(r: FuzzRequest, marker: string): Rendered {
  const headers: Array<[string, string]> = [];
  const host = hostValue(r.host);
  if (host !== undefined) headers.push(['Host', host]);
  headers.push([MARKER, marker]);
  for (const id of r.requestIds) headers.push(['X-Request-Id', id]);
  const keys = r.apiKeys.map((k): [string, string] => [k.name, credValue(k.cred)]);
  const auths = r.auths.map((a): [string, string] => ['Authorization', authValue(a)]);
  const creds = r.authFirst ? [...auths, ...keys] : [...keys, ...auths];
  if (r.huge) {
    const h: [string, string] = [r.huge.where === 'x-api-key' ? 'X-API-Key' : 'Authorization', hugeValue(r.huge)];
    if (r.huge.first) creds.unshift(h);
    else creds.push(h);
  }
  headers.push(...creds);
  const upgrade = r.upgrade && r.method === 'GET';
  if (upgrade) headers.push(['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']);
  else headers.push(['Connection', 'close']);
  const body = ['POST', 'PUT', 'PATCH', 'QUERY'].includes(r.method) ? '{"fuzz":true}' : '';
  if (body) headers.push(['Content-Length', String(body.length)]);
  const target = targetValue(r.target);
  const head = `${r.method} ${target} HTTP/${r.version}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return { method: r.method, version: r.version, target, headers, body, upgrade, bytes: Buffer.from(head + body, 'latin1') };
}

// ---------- the oracle ----------

type Expected =
  /** Node's HTTP parser refuses the request before the proxy sees it */
  | { kind: 'parser'; status: 400; why: 'method' | 'target' | 'header' | 'host' }
  /** CONNECT: no handler, the connection is closed (or the parser refuses an odd target) */
  | { kind: 'connect' }
  | { kind: 'internal'; endpoint: 'healthz' | 'readyz' }
  | { kind: 'answer'; code: ProxyErrorCode; label?: string }
  /** path: what the client asked of the deployment (the upstream gets it under upstreamPath) */
  | { kind: 'forward'; label: string; upstreamPath: string; path: string; authorization: string | undefined; requestId: string | null };

const KNOWN_METHODS = new Set(http.METHODS);
const SECRET_BY_VALUE = () => new Map(KEY_NAMES.map((n) => [S[n], n] as const));
let secretByValue: Map<string, KeyName> | undefined;

/** HTTP's optional whitespace, what the parser strips around a header value. */
const ows = (v: string) => v.replace(/^[ \t]+|[ \t]+$/g, '');
/** bytes a header value may not hold (HTAB aside), and what a request target may not hold */
// eslint-disable-next-line no-control-regex -- control bytes are the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex -- control bytes are the point
const NOT_IN_TARGET = /[\x00-\x20\x7f-\xff]/;
const HOST_ROUTE = /^model-([^.]+)\.([^.]+)\.keygate\.test\.?(?::\d*)?$/i;
const PATH_ROUTE = /^\/([^/]+)\/([^/?]+)(.*)$/s;
const KEYGATE_BEARER = /^\s*bearer\s+(kg_\S*)\s*$/i;

/** A well-formed keygate key anywhere in a string (the checksum makes a false hit ~1e-11), or in
 *  the base64 of Basic credentials. */
function carriesKeygateKey(v: string): boolean {
  // a lookahead, so overlapping candidates ("kg_AAA…kg_<key>") are all tried
  for (const m of v.matchAll(/(?=(kg_[0-9A-Za-z]{30}))/g)) if (isWellFormedSecret('kg_', m[1]!)) return true;
  const basic = /^\s*basic\s+(\S+)\s*$/i.exec(v)?.[1];
  return basic !== undefined && carriesKeygateKey(Buffer.from(basic, 'base64').toString('latin1'));
}

/** The contract's decision for one request, from the declared world. */
function spec(q: Rendered): Expected {
  if (q.method === 'CONNECT') return { kind: 'connect' };
  if (!KNOWN_METHODS.has(q.method)) return { kind: 'parser', status: 400, why: 'method' };
  // origin-form, '*' or absolute-form; anything else, or a space, control or non-ASCII byte in it
  if (!/^(\/|\*$|[a-z][a-z0-9+.-]*:\/\/)/i.test(q.target) || NOT_IN_TARGET.test(q.target)) return { kind: 'parser', status: 400, why: 'target' };
  if (q.headers.some(([, v]) => CONTROL.test(v))) return { kind: 'parser', status: 400, why: 'header' };
  const seen = q.headers.map(([n, v]): [string, string] => [n.toLowerCase(), ows(v)]);
  const values = (name: string) => seen.filter(([n]) => n === name).map(([, v]) => v);
  const host = values('host')[0];
  // Node requires a Host of an HTTP/1.1 request, though not of an upgrade.
  if (host === undefined && q.version === '1.1' && !q.upgrade) return { kind: 'parser', status: 400, why: 'host' };

  // Which deployment: the Host names it, else the path does; else /-/ endpoints or 404.
  let slug: string;
  let name: string;
  let forwardedPath: string;
  const h = host === undefined ? null : HOST_ROUTE.exec(host);
  if (h) {
    [name, slug] = [h[1]!.toLowerCase(), h[2]!.toLowerCase()];
    forwardedPath = q.target;
  } else {
    const pathname = q.target.split('?')[0]!;
    if (pathname.startsWith('/-/')) {
      // /-/metrics is not served here: metrics are on the status listener.
      const endpoint = ({ '/-/healthz': 'healthz', '/-/readyz': 'readyz' } as const)[pathname];
      // The proxy's own endpoints take no upgrade.
      return endpoint && !q.upgrade ? { kind: 'internal', endpoint } : { kind: 'answer', code: 'deployment_not_found' };
    }
    const m = PATH_ROUTE.exec(q.target);
    if (!m) return { kind: 'answer', code: 'deployment_not_found' };
    [slug, name] = [m[1]!.toLowerCase(), m[2]!.toLowerCase()];
    forwardedPath = m[3] === '' ? '/' : m[3]!.startsWith('?') ? `/${m[3]}` : m[3]!;
  }
  const label = `${slug}/${name}`;
  const d = Object.hasOwn(DEPLOYMENTS, label) ? DEPLOYMENTS[label]! : undefined;
  if (!d) return { kind: 'answer', code: 'deployment_not_found' };

  // What the upstream is asked for: under the base path, never above it, whatever the target.
  const upstreamPath = basePathOf(label);
  // Node keeps the first Authorization; the proxy passes it on unless it carries a keygate key.
  const firstAuth = values('authorization')[0];
  const authorization = firstAuth === undefined || KEYGATE_BEARER.test(firstAuth) || carriesKeygateKey(firstAuth) ? undefined : firstAuth;
  // The client's X-Request-Id (Node joins repeated ones) when it has a sane length, else a new one.
  const ids = values('x-request-id');
  const clientId = ids.length === 0 ? '' : ids.join(', ');
  const requestId = clientId.length >= 1 && clientId.length <= 128 ? clientId : null;
  const forward: Expected = { kind: 'forward', label, upstreamPath, path: forwardedPath, authorization, requestId };
  // After the key check: a dot segment however written is refused, never resolved or passed on.
  const admitted: Expected = hasDotSegment(forwardedPath) ? { kind: 'answer', code: 'invalid_path', label } : forward;
  if (!d.auth) return admitted;

  // Guarded: X-API-Key (empty counts as absent, two are refused) wins over Authorization: Bearer kg_….
  const refuse = (code: ProxyErrorCode): Expected => ({ kind: 'answer', code, label });
  const apiKeys = values('x-api-key')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  let presented: string;
  if (apiKeys.length > 1) return refuse('invalid_api_key');
  if (apiKeys.length === 1) presented = apiKeys[0]!;
  else {
    const auths = values('authorization');
    if (auths.length === 0) return refuse('missing_api_key');
    if (auths.length > 1) return refuse('invalid_api_key');
    const b = KEYGATE_BEARER.exec(auths[0]!);
    if (!b) return refuse('invalid_api_key'); // Basic, another Bearer, a bare key
    presented = b[1]!;
  }
  secretByValue ??= SECRET_BY_VALUE();
  const k = secretByValue.get(presented);
  const key = k === undefined ? undefined : KEYS[k];
  if (!k || !key || !key.present || key.expired || key.projectId !== d.projectId || !d.linked.has(k)) return refuse('invalid_api_key');
  return admitted;
}

/** SECURITY.md's rule: a `.` or `..` segment (before any `;param`) once %2E, %2F, %5C and %25 are
 *  decoded and `\` read as `/`, in the path before any '?'. */
function hasDotSegment(path: string): boolean {
  if (!path.startsWith('/')) return false;
  let p = path.split('?')[0]!.toLowerCase();
  while (p.includes('%25')) p = p.replaceAll('%25', '%');
  p = p.replace(/%2e/g, '.').replace(/%2f|%5c|\\/g, '/');
  return p.split('/').some((segment) => ['.', '..'].includes(segment.split(';')[0]!));
}

// ---------- checking one request ----------

const stats = { sent: 0, forwarded: 0, upgraded: 0, refused: 0, parser: 0, internal: 0, byCode: {} as Record<string, number> };

function findAtUpstreams(marker: string): Array<[string, MarkedRequest]> {
  const found: Array<[string, MarkedRequest]> = [];
  for (const [label, u] of upstreams) {
    const r = u.byMarker.get(marker);
    if (r) found.push([label, r]);
  }
  return found;
}

const bodyOf = (code: ProxyErrorCode) => ANSWERS[code].body.toString();
const show = (q: Rendered) => JSON.stringify(q.bytes.toString('latin1').slice(0, 600));

/** Whether the headers a request carried hold a valid key linked to `label` (for the security
 *  invariant, read from what was sent, not from the spec's decision). */
function sentValidKeyFor(q: Rendered, label: string): boolean {
  const d = DEPLOYMENTS[label]!;
  return KEY_NAMES.some((k) => {
    const key = KEYS[k];
    if (!key.present || key.expired || key.projectId !== d.projectId || !d.linked.has(k)) return false;
    return q.headers.some(([n, v]) => /^(x-api-key|authorization)$/i.test(n) && v.includes(S[k]));
  });
}

async function check(r: FuzzRequest): Promise<void> {
  const marker = `m${++nextMarker}`;
  const q = render(r, marker);
  const expected = spec(q);
  const got: RawAnswer = await rawExchange(proxy.port, q.bytes);
  stats.sent++;
  const where = `${show(q)}\n→ ${JSON.stringify(got.raw.slice(0, 300))}\nexpected ${JSON.stringify(expected)}`;
  const arrived = findAtUpstreams(marker);
  const head = q.method === 'HEAD';

  // The security invariants first, independent of the spec's decision: an upstream answer
  // (2xx or 101) came from an upstream that saw this request, and no upstream of a guarded
  // deployment sees a request without a valid linked key of its project.
  if (header(got, 'x-upstream') === 'yes') expect(arrived, `an upstream answer for a request no upstream saw: ${where}`).toHaveLength(1);
  for (const [label, seen] of arrived) {
    if (DEPLOYMENTS[label]?.auth) expect(sentValidKeyFor(q, label), `${label} (guarded) reached without a valid linked key: ${where}`).toBe(true);
    expect(label, `routed to a deleted deployment: ${where}`).not.toBe('globex/old');
    const text = seen.rawHeaders.join('\n');
    expect(seen.rawHeaders.some((n, i) => i % 2 === 0 && n.toLowerCase() === 'x-api-key'), `X-API-Key reached an upstream: ${where}`).toBe(false);
    for (const v of seen.rawHeaders) expect(carriesKeygateKey(v), `a keygate key reached an upstream: ${where}`).toBe(false);
    for (const k of KEY_NAMES) expect(text.includes(S[k]), `${k}'s secret reached an upstream: ${where}`).toBe(false);
  }

  switch (expected.kind) {
    case 'parser':
      stats.parser++;
      stats.byCode[`parser:${expected.why}`] = (stats.byCode[`parser:${expected.why}`] ?? 0) + 1;
      expect(got.status, where).toBe(400);
      expect(arrived, where).toHaveLength(0);
      return;
    case 'connect':
      stats.parser++;
      expect([0, 400], where).toContain(got.status);
      expect(arrived, where).toHaveLength(0);
      return;
    case 'internal':
      stats.internal++;
      expect(got.status, where).toBe(200);
      expect(header(got, 'x-upstream'), where).toBeUndefined();
      if (!head && expected.endpoint === 'healthz') expect(got.body, where).toBe('{"status":"ok"}');
      if (!head && expected.endpoint === 'readyz') expect(JSON.parse(got.body), where).toEqual({ status: 'ready', revision: 15 });
      expect(arrived, where).toHaveLength(0);
      return;
    case 'answer': {
      stats.refused++;
      stats.byCode[expected.code] = (stats.byCode[expected.code] ?? 0) + 1;
      expect(got.status, where).toBe(ANSWERS[expected.code].status);
      expect(header(got, 'content-type'), where).toBe('application/json');
      if (!head) expect(got.body, where).toBe(bodyOf(expected.code));
      if (q.upgrade) expect(header(got, 'connection'), where).toBe('close');
      if (got.status === 401) expect(header(got, 'www-authenticate'), where).toBe('Bearer realm="keygate"');
      expect(arrived, `the upstream received a refused request: ${where}`).toHaveLength(0);
      return;
    }
    case 'forward': {
      stats.forwarded++;
      if (q.upgrade) stats.upgraded++;
      expect(got.status, where).toBe(q.upgrade ? 101 : 200);
      expect(header(got, 'x-upstream'), where).toBe('yes');
      if (!head && !q.upgrade) expect(JSON.parse(got.body).marker, where).toBe(marker);
      expect(arrived.map(([label]) => label), where).toEqual([expected.label]);
      const seen = arrived[0]![1];
      expect(seen.count, `forwarded more than once: ${where}`).toBe(1);
      expect(seen.method, where).toBe(q.method);
      expect(seen.url.startsWith(`${expected.upstreamPath}/`), `escaped the base path: ${seen.url} ${where}`).toBe(true);
      // Resolving what arrived once more does not climb either.
      expect(new URL(`http://u${seen.url}`).pathname.startsWith(`${expected.upstreamPath}/`), where).toBe(true);
      // A plain path (no dot segments, encodings or doubled slashes) arrives exactly as joined.
      if (/^(\/[\w-]+)*\/?(\?[\w=&]+)?$/.test(expected.path)) expect(seen.url, where).toBe(expected.upstreamPath + expected.path);
      const idAtUpstream = seen.rawHeaders[seen.rawHeaders.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === 'x-request-id') + 1];
      if (expected.requestId === null) expect(idAtUpstream, where).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // (a joined value may end in ", ": the upstream's parser trims that space)
      else expect(idAtUpstream, where).toBe(ows(expected.requestId));
      if (!q.upgrade) expect(header(got, 'x-request-id'), where).toBe(idAtUpstream);
      const auths = seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i]!.toLowerCase() === 'authorization');
      const forwardedAuth = seen.rawHeaders.find((n, i) => i % 2 === 0 && n.toLowerCase() === 'authorization') ? seen.rawHeaders[seen.rawHeaders.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === 'authorization') + 1] : undefined;
      expect(auths.length, where).toBeLessThanOrEqual(1);
      expect(forwardedAuth, `Authorization passed on wrongly: ${where}`).toBe(expected.authorization);
      return;
    }
  }
}

// ---------- the properties ----------

// PROXY_FUZZ_SCALE=10 searches ten times longer (outside CI); 1 is the CI budget: 13,500 requests,
// ~15–25 s here.
const SCALE = Number(process.env.PROXY_FUZZ_SCALE ?? 1);
const RUNS = { any: Math.round(8000 * SCALE), credentials: Math.round(4000 * SCALE), routing: Math.round(1500 * SCALE) };

async function healthy(): Promise<void> {
  const res = await rawExchange(proxy.port, Buffer.from('GET /-/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  expect(res.status).toBe(200);
  expect(watcher.errors).toEqual([]);
}

/** Counterexamples this suite found (fixed in src/proxy), run first on every run. */
const plain: FuzzRequest = {
  method: 'GET',
  version: '1.1',
  host: { kind: 'other', value: '127.0.0.1' },
  target: { kind: 'path', route: ['acme', 'open'], casing: 'lower', rest: ['v1', 'models'], query: '' },
  apiKeys: [],
  auths: [],
  authFirst: false,
  huge: null,
  upgrade: false,
  requestIds: [],
};
const FOUND: FuzzRequest[] = [
  // a keygate key in Authorization that is not "Bearer kg_…" was passed on to the upstream
  { ...plain, auths: [{ kind: 'schemeKey', scheme: '', key: 'acmeChat' }] },
  { ...plain, auths: [{ kind: 'basicKey', user: '', key: 'acmeChat', password: false }] },
  {
    ...plain,
    target: { kind: 'path', route: ['acme', 'chat'], casing: 'lower', rest: [], query: '' },
    apiKeys: [{ name: 'X-API-Key', cred: { kind: 'key', key: 'acmeBoth' } }],
    auths: [{ kind: 'bearer', scheme: 'Bearer', sep: ' ', cred: { kind: 'key', key: 'acmeChat' }, trail: ' x' }],
  },
  // "OPTIONS *" on a deployment host reached the upstream as "/*", above the base path
  { ...plain, method: 'OPTIONS', host: { kind: 'deployment', route: ['acme', 'open'], casing: 'lower', dot: false, port: '' }, target: { kind: 'star' } },
];

describe('which Authorization values the proxy keeps from the upstream', () => {
  const tokenChar = fc.constantFrom(...`${BASE62}-_.~+/=`.split(''));
  it('any value with a well-formed key in it, bare, under any scheme or in Basic credentials', () => {
    fc.assert(
      fc.property(fc.string({ unit: tokenChar, maxLength: 40 }), fc.string({ unit: tokenChar, maxLength: 40 }), fc.constantFrom('', 'Bearer ', 'Token ', 'Basic '), fc.boolean(), (before, after, scheme, basic) => {
        const secret = issueSecret('kg_').secret;
        // a run of base62 ending in "kg" right before the key must not hide it
        before = before.length % 3 === 0 ? `kg_${'A'.repeat(28)}${before}` : before;
        const value = basic ? `Basic ${Buffer.from(`${before}${secret}:${after}`).toString('base64')}` : `${scheme}${before}${secret}${after}`;
        expect(proxyCarriesKey(value)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('not another token that merely contains "kg_" and 30 letters (the checksum tells them apart)', () => {
    // e.g. a base64url JWT: ~1 in 2,000 of 300-character ones hold such a run somewhere
    fc.assert(
      fc.property(fc.string({ unit: tokenChar, maxLength: 40 }), fc.string({ unit: fc.constantFrom(...BASE62.split('')), minLength: 30, maxLength: 30 }), fc.string({ unit: tokenChar, maxLength: 40 }), (before, body, after) => {
        fc.pre(!isWellFormedSecret('kg_', `kg_${body}`) && !/kg_/.test(before + after));
        expect(proxyCarriesKey(`Bearer sk-${before}kg_${body}${after}`)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('generated requests against the proxy', () => {
  it(`any request: ${RUNS.any} runs`, async () => {
    await fc.assert(fc.asyncProperty(requestArb(), check), { numRuns: RUNS.any, examples: FOUND.map((r) => [r]) });
    await healthy();
  }, 120_000);

  it(`credentials on guarded and open deployments: ${RUNS.credentials} runs`, async () => {
    // The routing held simple (known deployments, by host or by path) so the search goes into keys.
    const arb = requestArb({
      method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD'),
      version: fc.constant('1.1' as const),
      host: fc.oneof(
        fc.record({ kind: fc.constant('deployment' as const), route: fc.constantFrom(...LABELS.map((l) => l.split('/') as [string, string])), casing: casingArb, dot: fc.constant(false), port: fc.constant('') }),
        fc.constant({ kind: 'other' as const, value: '127.0.0.1' }),
      ),
      target: fc.record({ kind: fc.constant('path' as const), route: fc.constantFrom(...LABELS.map((l) => l.split('/') as [string, string])), casing: fc.constant<Casing>('lower'), rest: fc.constant(['v1', 'chat', 'completions']), query: fc.constant('') }),
    });
    await fc.assert(fc.asyncProperty(arb, check), { numRuns: RUNS.credentials });
    await healthy();
  }, 120_000);

  it(`routing with a valid key: ${RUNS.routing} runs`, async () => {
    // A key that opens acme/chat and acme/embed, so what decides is the route.
    const arb = requestArb({
      apiKeys: fc.constant([{ name: 'X-API-Key', cred: { kind: 'key' as const, key: 'acmeBoth' as const } }]),
      auths: fc.array(authArb, { maxLength: 1 }),
      huge: fc.constant(null),
    });
    await fc.assert(fc.asyncProperty(arb, check), { numRuns: RUNS.routing });
    await healthy();
  }, 120_000);

  it('covered every outcome, and the upstreams saw exactly the forwarded requests', async () => {
    const total = [...upstreams.values()].reduce((n, u) => n + u.total(), 0);
    console.log(`proxy-fuzz: ${JSON.stringify(stats)}`);
    // Shrinking on a failure would add runs; on success the counts are exact.
    // (fast-check counts the examples among numRuns)
    expect(stats.sent).toBeGreaterThanOrEqual(RUNS.any + RUNS.credentials + RUNS.routing);
    expect(total).toBe(stats.forwarded);
    for (const code of ['missing_api_key', 'invalid_api_key', 'deployment_not_found']) expect(stats.byCode[code] ?? 0).toBeGreaterThan(50 * SCALE);
    expect(stats.forwarded).toBeGreaterThan(1000 * SCALE);
    expect(stats.parser).toBeGreaterThan(100 * SCALE);
    expect(stats.internal).toBeGreaterThan(20 * SCALE);
    expect(stats.upgraded).toBeGreaterThan(20 * SCALE);
    await healthy();
  });
});
