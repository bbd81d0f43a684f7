// The Redis feed against the real Redis: delivery, leases by the server's clock, acks, reconnects,
// malformed messages, and failing fast when Redis is gone.
import { afterEach, describe, expect, it } from 'vitest';
import type { Feed } from '../../src/feed/feed.ts';
import type { ChangeEvent } from '../../src/feed/events.ts';
import { createRedisFeed } from '../../src/feed/redis-feed.ts';
import {
  connectionNames,
  deletePrefix,
  killConnection,
  makeEvent,
  rawRedis,
  recordingLog,
  REDIS_URL,
  sleep,
  uniqueName,
  uniquePrefix,
  waitFor,
} from './helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup() {
  const prefix = uniquePrefix();
  const recorded = recordingLog();
  const redis = rawRedis();
  const feeds: Feed[] = [];
  cleanups.push(async () => {
    await Promise.all(feeds.map((f) => f.close()));
    await deletePrefix(redis, prefix);
    await redis.quit();
  });
  const feed = (connectionName = uniqueName()) => {
    const f = createRedisFeed({ url: REDIS_URL, prefix, log: recorded.log, connectionName });
    feeds.push(f);
    return f;
  };
  return { prefix, redis, feed, ...recorded };
}

describe('createRedisFeed', () => {
  it('delivers everything published after subscribe() resolves, in order', async () => {
    const { feed } = setup();
    const consumer = feed();
    const publisher = feed();
    const got: number[] = [];
    await consumer.subscribe({ onEvent: (e) => got.push(e.revision) });
    for (let r = 1; r <= 200; r++) await publisher.publish(makeEvent(r));
    await waitFor(() => got.length === 200, 5000, '200 events');
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('delivers the event intact to several subscribers', async () => {
    const { feed } = setup();
    const [a, b] = [feed(), feed()];
    const gotA: ChangeEvent[] = [];
    const gotB: ChangeEvent[] = [];
    await a.subscribe({ onEvent: (e) => gotA.push(e) });
    await b.subscribe({ onEvent: (e) => gotB.push(e) });
    const event = makeEvent(7);
    await a.publish(event);
    await waitFor(() => gotA.length === 1 && gotB.length === 1);
    expect(gotA[0]).toEqual(event);
    expect(gotB[0]).toEqual(event);
  });

  it('stops delivering to an unsubscribed handler', async () => {
    const { feed } = setup();
    const f = feed();
    const got: number[] = [];
    const other: number[] = [];
    const unsubscribe = await f.subscribe({ onEvent: (e) => got.push(e.revision) });
    await f.subscribe({ onEvent: (e) => other.push(e.revision) });
    await f.publish(makeEvent(1));
    await waitFor(() => got.length === 1 && other.length === 1);
    await unsubscribe();
    await f.publish(makeEvent(2));
    await waitFor(() => other.length === 2);
    expect(got).toEqual([1]);
  });

  it('ignores malformed messages with a warning and keeps going', async () => {
    const { feed, prefix, redis, lines } = setup();
    const f = feed();
    const got: number[] = [];
    const floors: number[] = [];
    await f.subscribe({ onEvent: (e) => got.push(e.revision) });
    f.onFleetApplied((floor) => floors.push(floor));
    await f.fleetProgress(1, false); // the fleet subscription is active once this resolves
    await redis.publish(`${prefix}changes`, 'not json');
    await redis.publish(`${prefix}changes`, JSON.stringify({ revision: 'x', type: 'API_KEY_CREATED' }));
    await redis.publish(`${prefix}changes`, JSON.stringify({ ...makeEvent(3), type: 'NOPE' }));
    await redis.publish(`${prefix}fleet`, '{"floor": "3"}');
    await f.publish(makeEvent(4));
    await f.renewLease('p', 4, 10_000);
    await waitFor(() => got.length === 1 && floors.length === 1);
    expect(got).toEqual([4]);
    const warnings = lines.filter((l) => l.level === 40 && /malformed/.test(l.msg));
    expect(warnings).toHaveLength(4);
    // the payload is never logged
    expect(JSON.stringify(warnings)).not.toContain('not json');
  });

  it('expires leases by TTL on the server clock', async () => {
    const { feed, prefix, redis } = setup();
    const f = feed();
    // TTLs and waits in seconds, not a few hundred ms: a loaded machine pauses that long between two commands.
    await f.renewLease('short', 5, 1500);
    await f.renewLease('long', 6, 60_000);
    expect(await f.liveProxies()).toEqual(
      new Map([
        ['short', 5],
        ['long', 6],
      ]),
    );
    await sleep(2000);
    expect(await f.liveProxies()).toEqual(new Map([['long', 6]]));
    // the expired lease and its revision are gone from Redis too
    expect(await redis.zrange(`${prefix}fleet:leases`, '0', '-1')).toEqual(['long']);
    expect(await redis.zrange(`${prefix}fleet:revisions`, '0', '-1')).toEqual(['long']);
  });

  it('renewing extends a lease and never lowers its revision', async () => {
    const { feed } = setup();
    const f = feed();
    await f.renewLease('p', 9, 2000);
    await sleep(1200);
    await f.renewLease('p', 4, 2000);
    await sleep(1200); // past the first renewal's expiry
    expect(await f.liveProxies()).toEqual(new Map([['p', 9]]));
  });

  it('acks cumulatively, and announces the fleet floor once per rise, recorded before announced', async () => {
    const { feed } = setup();
    const controlPlane = feed();
    const proxyA = feed();
    const proxyB = feed();
    const heard: Array<[number, number]> = [];
    const stop = controlPlane.onFleetApplied((floor, live) => heard.push([floor, live]));
    await controlPlane.fleetProgress(1, false);
    await proxyA.renewLease('a', 1, 10_000);
    await proxyB.renewLease('b', 1, 10_000);
    await waitFor(() => heard.length === 1);
    expect(heard).toEqual([[1, 1]]); // a's lease: floor 1; b's at 1 too: no rise, no message

    let seenOnAnnouncement: unknown = null;
    const check = controlPlane.onFleetApplied((floor) => {
      if (floor === 3) void controlPlane.fleetProgress(3, true).then((p) => (seenOnAnnouncement = p));
    });
    await proxyA.ack('a', 5); // floor stays 1 (b)
    await proxyA.ack('a', 2); // older: the recorded revision stays 5
    await proxyB.ack('b', 3); // floor 3
    await waitFor(() => heard.length === 2 && seenOnAnnouncement !== null);
    expect(heard).toEqual([
      [1, 1],
      [3, 2],
    ]);
    expect(seenOnAnnouncement).toEqual({ live: 2, applied: 2, legacyLagging: 0, lagging: [] });
    expect(await controlPlane.fleetProgress(5, true)).toEqual({ live: 2, applied: 1, legacyLagging: 0, lagging: ['b'] });
    expect(await controlPlane.liveProxies()).toEqual(
      new Map([
        ['a', 5],
        ['b', 3],
      ]),
    );
    check();

    await proxyB.dropLease('b'); // the floor rises to a's 5
    await waitFor(() => heard.length === 3);
    expect(heard[2]).toEqual([5, 1]);
    await proxyA.dropLease('a'); // the fleet is empty
    await waitFor(() => heard.length === 4);
    expect(heard[3]).toEqual([-1, 0]);
    stop();
    expect(await controlPlane.liveProxies()).toEqual(new Map());
  });

  it('an ack given the TTL renews a live lease, and says so', async () => {
    const { feed } = setup();
    const f = feed();
    await f.renewLease('p', 1, 2000);
    await sleep(1200);
    expect(await f.ack('p', 2, 2000)).toBe(true);
    await sleep(1200); // past the first lease's expiry
    expect(await f.liveProxies()).toEqual(new Map([['p', 2]]));
    expect(await f.ack('p', 3)).toBe(false); // no TTL: recorded, not renewed
    expect(await f.ack('ghost', 3, 2000)).toBe(false);
    expect(await f.liveProxies()).toEqual(new Map([['p', 3]]));
  });

  it('an ack from a proxy without a lease is not recorded', async () => {
    const { feed, prefix, redis } = setup();
    const f = feed();
    await f.ack('ghost', 4);
    expect(await redis.zscore(`${prefix}fleet:revisions`, 'ghost')).toBeNull();
    expect(await f.liveProxies()).toEqual(new Map());
    expect(await f.fleetProgress(4, true)).toEqual({ live: 0, applied: 0, legacyLagging: 0, lagging: [] });
  });

  it('counts proxies holding a lease of the earlier protocol, at their recorded revision', async () => {
    const { feed, prefix, redis } = setup();
    const f = feed();
    await f.renewLease('new', 7, 10_000);
    const time = await redis.time();
    const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    await redis.zadd(`${prefix}proxies:leases`, nowMs + 10_000, 'old-a', nowMs + 10_000, 'old-b', nowMs - 1, 'old-gone');
    await redis.hset(`${prefix}proxies:applied`, 'old-a', '7', 'old-b', '6');
    expect(await f.fleetProgress(7, true)).toEqual({ live: 3, applied: 2, legacyLagging: 1, lagging: ['old-b'] });
  });

  it('re-subscribes and calls onReconnect after the subscriber connection is killed', async () => {
    const { feed, redis } = setup();
    const name = uniqueName();
    const f = feed(name);
    const publisher = feed();
    let reconnects = 0;
    let disconnects = 0;
    const got: number[] = [];
    await f.subscribe({ onEvent: (e) => got.push(e.revision), onReconnect: () => reconnects++, onDisconnect: () => disconnects++ });
    await publisher.publish(makeEvent(1));
    await waitFor(() => got.length === 1);
    expect(reconnects).toBe(0);

    expect(await killConnection(redis, `${name}:sub`)).toBe(1);
    await waitFor(() => reconnects === 1, 10_000, 'onReconnect');
    expect(disconnects).toBe(1);
    // onReconnect comes after the subscription is active again: nothing published now is missed
    await publisher.publish(makeEvent(2));
    await waitFor(() => got.length === 2);
    expect(got).toEqual([1, 2]);
  });

  it('the command connection reconnects by itself too', async () => {
    const { feed, redis } = setup();
    const name = uniqueName();
    const f = feed(name);
    await f.renewLease('p', 1, 10_000);
    await killConnection(redis, `${name}:cmd`);
    await waitFor(
      async () => {
        try {
          await f.renewLease('p', 2, 10_000);
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      'renewal after reconnect',
    );
    expect(await f.liveProxies()).toEqual(new Map([['p', 2]]));
  });

  it('close() quits both connections', async () => {
    const { prefix, redis, log } = setup();
    const name = uniqueName();
    const f = createRedisFeed({ url: REDIS_URL, prefix, log, connectionName: name });
    await f.subscribe({ onEvent: () => {} });
    await f.liveProxies();
    expect((await connectionNames(redis)).filter((n) => n.startsWith(name)).sort()).toEqual([`${name}:cmd`, `${name}:sub`]);
    await f.close();
    await waitFor(async () => (await connectionNames(redis)).every((n) => !n.startsWith(name)), 3000, 'connections closed');
  });

  it('rejects quickly instead of hanging when Redis is unreachable', async () => {
    const { log } = recordingLog();
    const f = createRedisFeed({ url: 'redis://127.0.0.1:1', prefix: uniquePrefix(), log, connectTimeoutMs: 1000 });
    cleanups.push(() => f.close());
    const timed = async (run: () => Promise<unknown>) => {
      const started = Date.now();
      await expect(run()).rejects.toThrow();
      return Date.now() - started;
    };
    expect(await timed(() => f.publish(makeEvent(1)))).toBeLessThan(3000);
    expect(await timed(() => f.liveProxies())).toBeLessThan(3000);
    expect(await timed(() => f.renewLease('p', 1, 1000))).toBeLessThan(3000);
    expect(await timed(() => f.ack('p', 1))).toBeLessThan(3000);
    expect(await timed(() => f.subscribe({ onEvent: () => {} }))).toBeLessThan(3000);
    await sleep(300); // a few reconnect attempts: they are logged, never thrown
  });
});
