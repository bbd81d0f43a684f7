// Shared by the subscription tests: a keygate started with subscription tuning (short timeouts,
// small queues), graphql-ws and raw WebSocket clients, and an SSE reader on plain fetch.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { KeygateTuning, RunMode, RunningKeygate } from '../../src/server/app.ts';
import { ADMIN_TOKEN, startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';

export interface Replica extends TestKeygate {
  running: RunningKeygate & { controlPlane: NonNullable<RunningKeygate['controlPlane']> };
  wsUrl: string;
  stats(): ReturnType<NonNullable<RunningKeygate['controlPlane']>['stats']>;
}

/** startTestKeygate with subscription tuning (a control plane is required). */
export async function startReplica(options: { env: Record<string, string>; mode?: RunMode; tuning?: KeygateTuning }): Promise<Replica> {
  const kg = await startTestKeygate({ ...options, mode: options.mode ?? 'control-plane' });
  const controlPlane = kg.running.controlPlane;
  if (!controlPlane) throw new Error('no control plane in this mode');
  return { ...kg, running: kg.running as Replica['running'], wsUrl: kg.url.replace(/^http/, 'ws'), stats: () => controlPlane.stats() };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(check: () => boolean, ms = 5000, what = 'a condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const EVENTS = `subscription($p: ID!, $after: Int) {
  projectEvents(projectId: $p, afterRevision: $after) { type revision actor projectId apiKeyId apiKey { name } }
}`;

export interface Received {
  type: string;
  revision: number;
  actor: string | null;
  projectId: string;
  apiKeyId: string | null;
  apiKey: { name: string } | null;
}

export interface WsClient {
  client: Client;
  /** close codes the client saw */
  closes: number[];
  dispose(): Promise<void>;
}

export function connect(url: string, token: string | null = ADMIN_TOKEN): WsClient {
  const closes: number[] = [];
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    on: { closed: (e) => closes.push((e as { code: number }).code) },
  });
  // An error on a connection that is meant to be closed is expected here; the codes are asserted.
  client.on('error', () => {});
  return { client, closes, dispose: () => Promise.resolve(client.dispose()) };
}

export interface Collected<T = Received> {
  events: T[];
  errors: unknown[];
  completed: boolean;
  dispose(): void;
}

/** Subscribes and collects events (data) and errors (GraphQL errors, or the close event). */
export function collect<T = Received>(client: Client, variables: Record<string, unknown>, query = EVENTS): Collected<T> {
  const out: Collected<T> = { events: [], errors: [], completed: false, dispose: () => {} };
  out.dispose = client.subscribe<{ projectEvents: T }>(
    { query, variables },
    {
      next: (r) => (r.data ? out.events.push(r.data.projectEvents) : out.errors.push(r.errors)),
      error: (e) => out.errors.push(e),
      complete: () => (out.completed = true),
    },
  );
  return out;
}

/** A WebSocket speaking graphql-transport-ws by hand, for the protocol's edge cases. */
export interface RawSocket {
  ws: WebSocket;
  messages: { type: string; id?: string; payload?: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
}

export async function rawSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<RawSocket> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', options);
  const messages: RawSocket['messages'] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed, send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) };
}

export const init = (token = ADMIN_TOKEN) => ({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });

/** GraphQL over SSE (yoga's own transport), read with plain fetch: the `next` payloads, as they come. */
export interface SseStream {
  events: { event: string; data: any }[];
  ended: Promise<void>;
  abort(): void;
}

export async function sse(url: string, query: string, variables: Record<string, unknown>, token: string | null = ADMIN_TOKEN): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  if (!res.ok || !res.body) throw new Error(`SSE request failed: ${res.status} ${await res.text()}`);
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error(`not an event stream: ${res.headers.get('content-type')}`);
  const events: SseStream['events'] = [];
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length > 0) events.push({ event, data: JSON.parse(data.join('\n')) });
          else if (event !== 'message') events.push({ event, data: null });
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, ended, abort: () => controller.abort() };
}

/** Subscribers on the changes channel of a Redis prefix (PUBSUB NUMSUB). */
export async function redisSubscribers(redis: import('ioredis').Redis, prefix: string): Promise<number> {
  const reply = (await redis.pubsub('NUMSUB', `${prefix}changes`)) as [string, number];
  return Number(reply[1]);
}

/**
 * Commits `count` change events for a project straight into the change log, as a mutation whose
 * publish to Redis was lost would leave them: the counter and the rows, no message. Returns
 * their revisions.
 */
export async function commitWithoutPublishing(databaseUrl: string, projectId: string, count = 1): Promise<number[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ revision: number }>(
      `WITH head AS (UPDATE feed_state SET revision = revision + $2 WHERE id = 1 RETURNING revision)
       INSERT INTO change_events (revision, project_id, type, actor, payload)
       SELECT head.revision - $2 + g, $1::uuid, 'API_KEY_UPDATED', 'unpublished', '{}'::jsonb FROM head, generate_series(1, $2) AS g
       RETURNING revision`,
      [projectId, count],
    );
    return rows.map((r) => r.revision).sort((x, y) => x - y);
  } finally {
    await client.end();
  }
}

/** Runs SQL against a test database. */
export async function sql(databaseUrl: string, text: string, values: unknown[] = []): Promise<any[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The database id inside a global id (`Type:uuid`, base64). */
export const rawId = (id: string) => Buffer.from(id, 'base64').toString('utf8').split(':')[1]!;

/** The graphql-ws clients a test file opens, so they can all be disposed after each test or file. */
export function clientPool() {
  const clients: WsClient[] = [];
  return {
    open(kg: { url: string }, token?: string | null): WsClient {
      const c = connect(kg.url, token);
      clients.push(c);
      return c;
    },
    async disposeAll(): Promise<void> {
      for (const c of clients.splice(0)) await c.dispose();
    },
  };
}
