// The feed end to end against the real Postgres and Redis: mutations through createChanges,
// proxies consuming through the change log (changeLogSource, readSnapshot), confirmation,
// catch-up of an unpublished change, and a reload after the log was pruned.
import { sqlOfPrisma } from '../../src/db/sql.ts';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Database } from '../../src/db/database.ts';
import { changeLogSource, readSnapshot, recordChange } from '../../src/feed/change-log.ts';
import { createChanges, type Changes } from '../../src/feed/recorder.ts';
import { FeedConsumer } from '../../src/feed/consumer.ts';
import type { ChangeEvent } from '../../src/feed/events.ts';
import type { Feed } from '../../src/feed/feed.ts';
import { startProxySync, type ProxySync } from '../../src/feed/lease.ts';
import { createRedisFeed } from '../../src/feed/redis-feed.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';
import { deletePrefix, rawRedis, recordingLog, REDIS_URL, uniqueName, uniquePrefix, waitFor } from './helpers.ts';

let testDb: TestDatabase;
let db: Database;
const prefix = uniquePrefix();
const feeds: Feed[] = [];
const { log } = recordingLog();

const feed = () => {
  const f = createRedisFeed({ url: REDIS_URL, prefix, log, connectionName: uniqueName() });
  feeds.push(f);
  return f;
};

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openPostgres(testDb.url, { poolSize: 4 });
});

afterAll(async () => {
  await Promise.all(feeds.map((f) => f.close()));
  const redis = rawRedis();
  await deletePrefix(redis, prefix);
  await redis.quit();
  await db?.close();
  await testDb?.drop();
});

const projectId = randomUUID();
/** One change, answered as a mutation is: once it is confirmed (or timed out). */
async function change(changes: Changes, n: number) {
  const { result, propagation } = await changes.run('test', async () => ({
    result: n,
    change: { projectId, type: 'API_KEY_CREATED' as const, payload: { apiKeyId: `k${n}` } },
  }));
  return { result, propagation: await propagation };
}

describe('the change feed on Postgres and Redis', () => {
  const proxies: Array<{ consumer: FeedConsumer; sync: ProxySync; seen: ChangeEvent[]; loads: number[] }> = [];

  it('proxies start from a snapshot and confirm every mutation', async () => {
    const controlPlane = feed();
    const changes = createChanges({ prisma: db.prisma, feed: controlPlane, propagationTimeoutMs: 3000, log });
    await change(changes, 0); // revision 1, before any proxy

    for (const id of ['a', 'b']) {
      const proxyFeed = feed();
      const seen: ChangeEvent[] = [];
      const loads: number[] = [];
      const load = async () => {
        const snapshot = await readSnapshot(sqlOfPrisma(db.prisma));
        loads.push(snapshot.revision);
        return snapshot.revision;
      };
      const consumer = new FeedConsumer({
        feed: proxyFeed,
        source: changeLogSource(sqlOfPrisma(db.prisma)),
        initialize: load,
        apply: (e) => void seen.push(e),
        pollIntervalMs: 100,
        maxStalenessMs: 10_000,
        log,
      });
      await consumer.start();
      const sync = await startProxySync({ feed: proxyFeed, consumer, proxyId: id, leaseMs: 3000, log });
      proxies.push({ consumer, sync, seen, loads });
    }
    expect(proxies.map((p) => p.consumer.applied)).toEqual([1, 1]);

    for (let n = 1; n <= 3; n++) {
      const { result, propagation } = await change(changes, n);
      expect(result).toBe(n);
      expect(propagation).toEqual({ revision: n + 1, confirmed: true, appliedBy: 2, expected: 2 });
    }
    for (const p of proxies) expect(p.seen.map((e) => [e.revision, e.payload.apiKeyId])).toEqual([
      [2, 'k1'],
      [3, 'k2'],
      [4, 'k3'],
    ]);
  });

  it('a committed change that was never published reaches the proxies through the log', async () => {
    // as if the control plane crashed between commit and publish
    await db.prisma.$transaction((tx) => recordChange(tx, 'test', { projectId, type: 'API_KEY_UPDATED', payload: { apiKeyId: 'k9' } }));
    await waitFor(() => proxies.every((p) => p.consumer.applied === 5), 5000, 'poll catch-up');
    for (const p of proxies) expect(p.seen.at(-1)?.payload.apiKeyId).toBe('k9');
  });

  it('a proxy behind the pruned log reloads the snapshot', async () => {
    const [a, b] = proxies as [(typeof proxies)[number], (typeof proxies)[number]];
    await b.sync.stop();
    await b.consumer.stop();
    const controlPlane = feed();
    const changes = createChanges({ prisma: db.prisma, feed: controlPlane, propagationTimeoutMs: 3000, log });
    // b is stopped at 5; make a standalone consumer at 5 whose next read finds the log pruned
    const seen: number[] = [];
    const loads: number[] = [];
    const lagging = new FeedConsumer({
      feed: feed(),
      source: changeLogSource(sqlOfPrisma(db.prisma)),
      initialize: async () => 5,
      reload: async () => {
        const snapshot = await readSnapshot(sqlOfPrisma(db.prisma));
        loads.push(snapshot.revision);
        return snapshot.revision;
      },
      apply: (e) => void seen.push(e.revision),
      pollIntervalMs: 60_000,
      maxStalenessMs: 60_000,
      log,
    });
    // 6 and 7 are committed and pruned before the lagging consumer sees them
    await change(changes, 6);
    await change(changes, 7);
    await db.prisma.changeEvent.deleteMany({ where: { revision: { lt: 7 } } });
    await lagging.start();
    await lagging.catchUp();
    expect(loads).toEqual([7]);
    expect(lagging.applied).toBe(7);
    expect(seen).toEqual([]);
    const { propagation } = await change(changes, 8);
    expect(propagation).toMatchObject({ revision: 8, confirmed: true, expected: 1 }); // a is the only lease
    await waitFor(() => lagging.applied === 8);
    expect(seen).toEqual([8]);
    await lagging.stop();
    await a.sync.stop();
    await a.consumer.stop();
  });
});
