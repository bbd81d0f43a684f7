// Starts a real keygate (the same assembly `keygate start` runs) on port 0 for a test, with a
// GraphQL client, a captured log and an optional SQL statement counter.
import { Writable } from 'node:stream';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { afterAll, beforeAll, expect } from 'vitest';
import { createTestDatabase, type TestDatabase } from './services.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startKeygate, type KeygateTuning, type RunMode, type RunningKeygate } from '../../src/server/app.ts';
import { createLogger } from '../../src/server/logger.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; field?: string; [k: string]: unknown } }[];
}

export interface TestKeygate {
  running: RunningKeygate;
  url: string;
  logs: string[];
  /** SQL statements Prisma sent since the last reset */
  queries: string[];
  /** Runs a typed document (from test/generated) or a plain query string. */
  gql<T = Record<string, any>, V = Record<string, unknown>>(
    query: TypedDocumentNode<T, V> | string,
    variables?: V,
    token?: string | null,
  ): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

export async function startTestKeygate(options: {
  env?: Record<string, string>;
  mode?: RunMode;
  tuning?: KeygateTuning;
} = {}): Promise<TestKeygate> {
  const logs: string[] = [];
  const queries: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({
    KEYGATE_PORT: '0',
    KEYGATE_PROXY_PORT: '0',
    KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    KEYGATE_PROPAGATION_TIMEOUT_MS: '1000',
    // The 2 s request deadline is a wall-clock bound: on a loaded shared machine a 1,000-item page
    // can exceed it. Tests of the deadline set it themselves (test/hardening/operation-limits.test.ts).
    KEYGATE_OPERATION_DEADLINE_MS: '30000',
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  const running = await startKeygate(
    options.mode ?? 'start',
    config,
    createLogger(config.logLevel, sink),
    { onQuery: (sql) => queries.push(sql) },
    options.tuning,
  );
  const url = running.controlPlane?.url ?? '';
  if (running.proxy) await waitForReadiness(running.proxy.port);
  return {
    running,
    url,
    logs,
    queries,
    async gql(query, variables, token = ADMIN_TOKEN) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query: typeof query === 'string' ? query : print(query), variables }),
      });
      const body = (await res.json()) as GraphQLResponse;
      return { ...body, status: res.status } as never;
    },
    stop: () => running.stop(),
  };
}

/** The first error's code, for terse assertions. */
export const errorCode = (r: GraphQLResponse) => r.errors?.[0]?.extensions?.code;
export const errorField = (r: GraphQLResponse) => r.errors?.[0]?.extensions?.field;

/** Waits until the proxy has loaded its snapshot and holds its lease. */
export async function waitForReadiness(port: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const res = await fetch(`http://127.0.0.1:${port}/-/readyz`).catch(() => null);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`proxy on port ${port} did not become ready`);
}

/** Waits until the control plane holds `count` subscriptions: a live-only subscription sees only
 *  the changes made once the server holds it. */
export async function waitForSubscribers(kg: TestKeygate, count: number, timeoutMs = 10_000): Promise<void> {
  const held = () => kg.running.controlPlane!.stats().subscribers;
  const deadline = Date.now() + timeoutMs;
  while (held() < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(held(), 'subscriptions the control plane holds').toBe(count);
}

/**
 * For a test file: a fresh database and a keygate (`start` mode) on it for the file's tests,
 * stopped and dropped afterwards. Read `.kg` / `.db` inside tests, not at module level.
 */
export function useKeygate(env: Record<string, string> = {}) {
  const handle = {} as { kg: TestKeygate; db: TestDatabase };
  beforeAll(async () => {
    handle.db = await createTestDatabase();
    handle.kg = await startTestKeygate({ env: { DATABASE_URL: handle.db.url, ...env } });
  });
  afterAll(async () => {
    await handle.kg?.stop();
    await handle.db?.drop();
  });
  return handle;
}
