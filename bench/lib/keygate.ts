// keygate for the benchmark: fresh migrated databases, unique Redis prefixes, `keygate proxy` and
// `keygate control-plane` as real processes, a control plane in this process (for the SQL
// statement count), and a small GraphQL client. Everything is undone by the cleanup list.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.ts';
import { startKeygate, type RunMode, type RunningKeygate } from '../../src/server/app.ts';
import { createLogger } from '../../src/server/logger.ts';
import { CreateApiKey, CreateDeployment, CreateProject } from '../../test/helpers/operations.ts';
import { createTestDatabase, REDIS_URL } from '../../test/helpers/services.ts';
import { onCleanup } from './cleanup.ts';
import { baseEnv, type Child, freePort, ROOT, startNode, waitForHttp } from './procs.ts';

export { REDIS_URL };
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const KEYGATE_BIN = `${ROOT}/bin/keygate.mjs`;

/** A fresh database with keygate's migrations, dropped on cleanup. */
export async function freshDatabase(): Promise<{ url: string; name: string }> {
  const db = await createTestDatabase();
  onCleanup(`database ${db.name}`, () => db.drop());
  return { url: db.url, name: db.name };
}

/** A Redis prefix no one else uses; its keys are deleted on cleanup. */
export function freshRedisPrefix(): string {
  const prefix = `kgbench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}:`;
  onCleanup(`redis keys ${prefix}*`, async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });
  return prefix;
}

let profileDir: string | null = null;
/** From now on, keygate processes run with --cpu-prof and write their profiles to `dir` on exit. */
export function profileKeygateInto(dir: string): void {
  profileDir = dir;
}
export const profileArgs = (): string[] => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []);

export interface KeygateProcess extends Child {
  port: number;
  /** the proxy's lease id, from its "proxy ready" log line (proxies only) */
  proxyId: string;
}

interface LogLine {
  msg?: string;
  time?: number;
  proxyId?: string;
}

export const parseLog = (line: string): LogLine | null => {
  if (!line.startsWith('{')) return null;
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return null;
  }
};

const keygateEnv = (databaseUrl: string, redisPrefix: string, extra: Record<string, string>) =>
  baseEnv({ DATABASE_URL: databaseUrl, REDIS_URL, KEYGATE_REDIS_PREFIX: redisPrefix, KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'info', ...extra });

/** `keygate proxy` as its own process; resolves once /-/readyz answers 200. */
export async function startProxyProcess(options: {
  name: string;
  databaseUrl: string;
  redisPrefix: string;
  cpu: string | null;
  logDir: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<KeygateProcess> {
  const port = await freePort();
  const child = startNode({
    name: options.name,
    script: KEYGATE_BIN,
    args: ['proxy'],
    cpu: options.cpu,
    logDir: options.logDir,
    nodeArgs: [...profileArgs(), ...(options.nodeArgs ?? [])],
    env: keygateEnv(options.databaseUrl, options.redisPrefix, { KEYGATE_PROXY_PORT: String(port), KEYGATE_STATUS_PORT: '0', ...options.env }),
  });
  const ready = await child.waitForLine((l) => parseLog(l)?.msg === 'proxy ready', options.readyTimeoutMs ?? 60_000);
  await waitForHttp(`http://127.0.0.1:${port}/-/readyz`, 200, 10_000);
  return Object.assign(child, { port, proxyId: parseLog(ready)?.proxyId ?? '' });
}

/** `keygate control-plane` as its own process. */
export async function startControlPlaneProcess(options: { name: string; databaseUrl: string; redisPrefix: string; cpu: string | null; logDir: string; env?: Record<string, string> }): Promise<KeygateProcess & { url: string }> {
  const port = await freePort();
  const child = startNode({
    name: options.name,
    script: KEYGATE_BIN,
    args: ['control-plane'],
    cpu: options.cpu,
    logDir: options.logDir,
    nodeArgs: profileArgs(),
    env: keygateEnv(options.databaseUrl, options.redisPrefix, { KEYGATE_PORT: String(port), KEYGATE_PROXY_PORT: '0', ...options.env }),
  });
  await child.waitForLine((l) => parseLog(l)?.msg === 'control plane listening', 60_000);
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 200, 10_000).catch(() => {});
  return Object.assign(child, { port, proxyId: '', url: `http://127.0.0.1:${port}/graphql` });
}

export interface InProcessKeygate {
  running: RunningKeygate;
  url: string;
  /** SQL statements Prisma sent since the last reset */
  queries: string[];
  stop(): Promise<void>;
}

/** keygate in this process (as test/helpers/keygate.ts starts it), with a SQL statement counter. */
export async function startInProcess(mode: RunMode, databaseUrl: string, redisPrefix: string, env: Record<string, string> = {}): Promise<InProcessKeygate> {
  const queries: string[] = [];
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    KEYGATE_REDIS_PREFIX: redisPrefix,
    KEYGATE_PORT: '0',
    KEYGATE_PROXY_PORT: '0',
    KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const sink = new Writable({ write: (_chunk, _enc, done) => done() });
  const running = await startKeygate(mode, config, createLogger(config.logLevel, sink), { onQuery: (sql) => queries.push(sql) });
  const undo = onCleanup(`in-process keygate ${mode}`, () => running.stop());
  return { running, url: running.controlPlane?.url ?? '', queries, stop: undo };
}

export interface GraphQLResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Sends one GraphQL operation; throws on HTTP or GraphQL errors. */
export async function gql<T, V>(url: string, document: TypedDocumentNode<T, V> | string, variables?: V, token = ADMIN_TOKEN): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as GraphQLResult<T>;
  if (!body.data || body.errors?.length) throw new Error(`GraphQL ${res.status}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export interface OneDeployment {
  databaseUrl: string;
  redisPrefix: string;
  /** the key's secret, linked to the deployment */
  secret: string;
  /** the Host that routes to the deployment */
  host: string;
  /** the same deployment by path: /<slug>/chat */
  pathPrefix: string;
}

/** A fresh database and Redis prefix holding one project, one key and a guarded deployment `chat`
 *  on `upstreamUrl` linked to the key, written through keygate's own API. */
export async function seedOneDeployment(upstreamUrl: string, slug = 'bench'): Promise<OneDeployment> {
  const db = await freshDatabase();
  const prefix = freshRedisPrefix();
  const cp = await startInProcess('control-plane', db.url, prefix);
  try {
    const project = (await gql(cp.url, CreateProject, { slug, name: slug })).createProject.project;
    const key = (await gql(cp.url, CreateApiKey, { input: { projectId: project.id, name: `${slug}-key` } })).createApiKey;
    await gql(cp.url, CreateDeployment, {
      input: { projectId: project.id, name: 'chat', model: 'llama-3-8b', upstreamUrl, authEnabled: true, apiKeyIds: [key.apiKey.id] },
    });
    return { databaseUrl: db.url, redisPrefix: prefix, secret: key.secret, host: `model-chat.${slug}.localhost`, pathPrefix: `/${slug}/chat` };
  } finally {
    await cp.stop();
  }
}
