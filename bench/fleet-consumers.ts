// Lightweight proxies for the fleet benchmark: COUNT feed consumers in one process, each what a
// `keygate proxy` is to the change feed and nothing else — its own Redis feed (its own two
// connections), its own consumer applying events to its own auth table, its own lease and acks,
// no HTTP server. The consumers start from the change log's head with an empty table (the
// benchmark's mutations name one deployment; its state arrives with each event).
//   COUNT=50 DATABASE_URL=… REDIS_URL=… KEYGATE_REDIS_PREFIX=… node --import tsx bench/fleet-consumers.ts
//   → "fleet ready <count> <proxyId,proxyId,…>"; SIGTERM drops every lease and exits.
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { createSqlPool } from '../src/db/sql.ts';
import { changeLogSource } from '../src/feed/change-log.ts';
import { FeedConsumer } from '../src/feed/consumer.ts';
import type { Feed } from '../src/feed/feed.ts';
import { startProxySync, type ProxySync } from '../src/feed/lease.ts';
import { createRedisFeed } from '../src/feed/redis-feed.ts';
import { AuthTable } from '../src/proxy/auth-table.ts';

const count = Number(process.env.COUNT ?? 50);
const leaseMs = Number(process.env.KEYGATE_PROXY_LEASE_MS ?? 3000);
const pollIntervalMs = Number(process.env.KEYGATE_POLL_INTERVAL_MS ?? 1000);
const log = pino({ level: 'warn' });
const pool = createSqlPool(process.env.DATABASE_URL!, 4);
const source = changeLogSource(pool);

interface Member {
  feed: Feed;
  consumer: FeedConsumer;
  sync: ProxySync;
  proxyId: string;
}

async function startMember(i: number): Promise<Member> {
  const feed = createRedisFeed({ url: process.env.REDIS_URL!, prefix: process.env.KEYGATE_REDIS_PREFIX!, log, connectionName: `bench-fleet-${process.pid}-${i}` });
  const table = new AuthTable();
  const consumer = new FeedConsumer({
    feed,
    source,
    initialize: async () => {
      const revision = await source.head();
      table.load({ revision, apiKeys: [], deployments: [] });
      return revision;
    },
    apply: (event) => void table.applyChange(event),
    pollIntervalMs,
    maxStalenessMs: 30_000,
    log,
  });
  await consumer.start();
  const proxyId = randomUUID();
  const sync = await startProxySync({ feed, consumer, proxyId, leaseMs, log });
  return { feed, consumer, sync, proxyId };
}

const members: Member[] = [];
for (let i = 0; i < count; i += 10) {
  members.push(...(await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => startMember(i + j)))));
}
process.stdout.write(`fleet ready ${members.length} ${members.map((m) => m.proxyId).join(',')}\n`);

process.on('SIGTERM', () => {
  void (async () => {
    await Promise.allSettled(members.map((m) => m.sync.stop()));
    await Promise.allSettled(members.map((m) => m.consumer.stop()));
    await Promise.allSettled(members.map((m) => m.feed.close()));
    await pool.close();
    process.exit(0);
  })();
});
