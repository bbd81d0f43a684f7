// Test helpers for the change feed: unique Redis prefixes, a log that records, an in-memory
// change log, and waiting for a condition.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { FeedConsumer } from '../../src/feed/consumer.ts';
import type { ChangeSource } from '../../src/feed/follower.ts';
import { startProxySync } from '../../src/feed/lease.ts';
import type { ChangeEvent } from '../../src/feed/events.ts';
import type { Feed } from '../../src/feed/feed.ts';
import { createRedisFeed } from '../../src/feed/redis-feed.ts';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(): string {
  return `kgtest:${randomUUID().slice(0, 8)}:`;
}

export function uniqueName(): string {
  return `kgtest-${randomUUID().slice(0, 8)}`;
}

export interface RecordedLog {
  log: Logger;
  lines: Array<{ level: number; msg: string; [k: string]: unknown }>;
  text(): string;
}

/** A pino logger that keeps every line (debug and up) in memory. */
export function recordingLog(): RecordedLog {
  const lines: RecordedLog['lines'] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  const log = pino({ level: 'debug' }, stream);
  return { log, lines, text: () => lines.map((l) => JSON.stringify(l)).join('\n') };
}

/** Deletes every key under a prefix. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

export function rawRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
}

/** Kills the connections whose CLIENT SETNAME is `name`; returns how many. */
export async function killConnection(redis: Redis, name: string): Promise<number> {
  const list = String(await redis.client('LIST'));
  let killed = 0;
  for (const line of list.split('\n')) {
    const fields = Object.fromEntries(line.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
    if (fields.name === name && fields.id) {
      await redis.client('KILL', 'ID', fields.id);
      killed += 1;
    }
  }
  return killed;
}

export async function connectionNames(redis: Redis): Promise<string[]> {
  const list = String(await redis.client('LIST'));
  return list
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter(Boolean);
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function makeEvent(revision: number, projectId = 'p1'): ChangeEvent {
  return {
    revision,
    projectId,
    type: 'API_KEY_UPDATED',
    actor: null,
    at: new Date(0).toISOString(),
    payload: { apiKeyId: `k${revision}`, apiKey: { id: `k${revision}`, projectId, hash: `h${revision}`, expiresAt: null } },
  };
}

/** An in-memory change log with the consumer's ChangeSource shape. */
export class FakeSource implements ChangeSource {
  events: ChangeEvent[] = [];
  /** every read rejects while true (Postgres down) */
  failing = false;
  reads = 0;

  get headRevision(): number {
    return this.events.at(-1)?.revision ?? this.prunedHead;
  }
  private prunedHead = 0;

  /** Records the next revision and returns its event. */
  append(projectId = 'p1'): ChangeEvent {
    const event = makeEvent(this.headRevision + 1, projectId);
    this.events.push(event);
    return event;
  }

  /** Drops events below `revision` (retention). */
  prune(below: number): void {
    this.prunedHead = this.headRevision;
    this.events = this.events.filter((e) => e.revision >= below);
  }

  private check() {
    this.reads += 1;
    if (this.failing) return Promise.reject(new Error('source unavailable'));
    return Promise.resolve();
  }

  async head(): Promise<number> {
    await this.check();
    return this.headRevision;
  }

  async eventsAfter(revision: number, limit: number): Promise<ChangeEvent[]> {
    await this.check();
    return this.events.filter((e) => e.revision > revision).slice(0, limit);
  }

  async oldestRetained(): Promise<number | null> {
    await this.check();
    return this.events[0]?.revision ?? null;
  }
}

/**
 * A TCP relay in front of Redis that a test can cut ('refuse': connections are reset) or make
 * unresponsive ('blackhole': bytes are swallowed), then restore.
 */
export async function createRelay(target = new URL(REDIS_URL)) {
  const { createServer, connect } = await import('node:net');
  type Mode = 'forward' | 'refuse' | 'blackhole';
  let mode: Mode = 'forward';
  const pairs = new Set<{ client: import('node:net').Socket; upstream: import('node:net').Socket }>();
  const server = createServer((client) => {
    client.on('error', () => {});
    if (mode === 'refuse') return void client.destroy();
    const upstream = connect(Number(target.port || 6379), target.hostname);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('data', (chunk) => {
      if (mode === 'forward') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (mode === 'forward') client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    set(next: Mode) {
      mode = next;
      if (next === 'refuse') for (const p of [...pairs]) p.client.destroy();
    },
    async close() {
      for (const p of [...pairs]) p.client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Redis feeds for one test under a fresh prefix. `cleanups` gets the step that closes them and
 * deletes every key they made.
 */
export function redisFeeds(cleanups: Array<() => Promise<unknown>>) {
  const prefix = uniquePrefix();
  const redis = rawRedis();
  const feeds: Feed[] = [];
  const { log } = recordingLog();
  cleanups.push(async () => {
    await Promise.all(feeds.map((f) => f.close()));
    await deletePrefix(redis, prefix);
    await redis.quit();
  });
  const feed = (options: { name?: string; wrap?: (f: Feed) => Feed } = {}): Feed => {
    const f = createRedisFeed({ url: REDIS_URL, prefix, log, connectionName: options.name ?? uniqueName() });
    const wrapped = options.wrap ? options.wrap(f) : f;
    feeds.push(wrapped);
    return wrapped;
  };
  return { redis, feed };
}

/**
 * A proxy for feed tests: a consumer whose "table" is the list of applied revisions, with its
 * lease and acks. Stopped by `cleanups` unless the test stops it first.
 */
export async function startSyncedProxy(
  cleanups: Array<() => Promise<unknown>>,
  feed: Feed,
  source: FakeSource,
  options: { proxyId?: string; leaseMs?: number; pollIntervalMs?: number; maxStalenessMs?: number } = {},
) {
  const { log } = recordingLog();
  const applied: number[] = [];
  const consumer = new FeedConsumer({
    feed,
    source,
    initialize: () => source.head(),
    apply: (e) => void applied.push(e.revision),
    pollIntervalMs: options.pollIntervalMs ?? 60_000,
    maxStalenessMs: options.maxStalenessMs ?? 60_000,
    log,
  });
  await consumer.start();
  const sync = await startProxySync({ feed, consumer, proxyId: options.proxyId ?? 'proxy', leaseMs: options.leaseMs ?? 3000, log });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await sync.stop();
    await consumer.stop();
  };
  cleanups.push(stop);
  return { consumer, sync, applied, stop };
}
