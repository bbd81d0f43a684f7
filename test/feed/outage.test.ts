// Redis going away and coming back, through a relay the test controls: commands fail fast, the
// consumer stays current by polling, and everything resumes (re-subscribe, catch-up, lease).
import { afterEach, describe, expect, it } from 'vitest';
import { FeedConsumer } from '../../src/feed/consumer.ts';
import type { Feed } from '../../src/feed/feed.ts';
import { waitForPropagation } from '../../src/feed/propagation.ts';
import { createRedisFeed } from '../../src/feed/redis-feed.ts';
import { createRelay, deletePrefix, FakeSource, makeEvent, rawRedis, recordingLog, REDIS_URL, sleep, startSyncedProxy, uniqueName, uniquePrefix, waitFor } from './helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const prefix = uniquePrefix();
  const redis = rawRedis();
  const relay = await createRelay();
  const feeds: Feed[] = [];
  cleanups.push(async () => {
    await Promise.all(feeds.map((f) => f.close()));
    await relay.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });
  const recorded = recordingLog();
  const feed = (url: string, extra: { commandTimeoutMs?: number } = {}) => {
    const f = createRedisFeed({ url, prefix, log: recorded.log, connectionName: uniqueName(), maxReconnectDelayMs: 100, ...extra });
    feeds.push(f);
    return f;
  };
  return { relay, feed, ...recorded };
}

describe('a Redis outage', () => {
  it('fails commands fast while Redis is unresponsive (a blackhole, not a refusal)', async () => {
    const { relay, feed } = await setup();
    const f = feed(relay.url, { commandTimeoutMs: 300 });
    await f.renewLease('p', 1, 10_000);
    relay.set('blackhole');
    for (const run of [() => f.publish(makeEvent(1)), () => f.liveProxies(), () => f.ack('p', 2)]) {
      const started = Date.now();
      await expect(run()).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(3000);
    }
    // the unresponsive connection was dropped: once Redis answers again, so does the feed
    relay.set('forward');
    await waitFor(
      () =>
        f.liveProxies().then(
          (live) => live.get('p') === 1,
          () => false,
        ),
      5000,
      'commands work again',
    );
  });

  it('drops a half-open subscriber connection, reconnects and catches up', async () => {
    const { relay } = await setup();
    const f = createRedisFeed({ url: relay.url, prefix: uniquePrefix(), log: recordingLog().log, commandTimeoutMs: 200, healthCheckMs: 100, maxReconnectDelayMs: 100 });
    cleanups.push(() => f.close());
    let disconnects = 0;
    let reconnects = 0;
    await f.subscribe({ onEvent: () => {}, onDisconnect: () => disconnects++, onReconnect: () => reconnects++ });
    relay.set('blackhole');
    await waitFor(() => disconnects === 1, 5000, 'half-open connection detected');
    relay.set('forward');
    await waitFor(() => reconnects === 1, 5000, 'reconnected');
  });

  it('a proxy keeps current by polling, then re-subscribes, catches up and holds its lease again', async () => {
    const { relay, feed } = await setup();
    const source = new FakeSource();
    const proxyFeed = feed(relay.url, { commandTimeoutMs: 300 });
    const controlPlane = feed(REDIS_URL);
    // A lease and a staleness bound longer than a loaded machine's pauses (a 300 ms lease lapsed between
    // two renewals, and the last confirmation expected no proxy).
    const { consumer, sync, applied } = await startSyncedProxy(cleanups, proxyFeed, source, { leaseMs: 1500, pollIntervalMs: 30, maxStalenessMs: 1500 });

    const first = source.append();
    await controlPlane.publish(first);
    expect((await waitForPropagation(controlPlane, 1, { timeoutMs: 3000, published: true })).confirmed).toBe(true);

    relay.set('refuse');
    // The lease lapses; mutations no longer wait for this proxy...
    await waitFor(async () => !(await controlPlane.liveProxies()).has('proxy'), 5000, 'lease expiry');
    for (let i = 0; i < 3; i++) await controlPlane.publish(source.append());
    // ...and it still follows the log by polling, proving itself current.
    await waitFor(() => consumer.applied === 4, 5000, 'poll catch-up');
    await sleep(2000); // past the staleness bound
    expect(consumer.status()).toBe('ready');
    expect(sync.leaseHeld).toBe(false);

    relay.set('forward');
    await waitFor(async () => (await controlPlane.liveProxies()).get('proxy') === 4, 5000, 'lease back');
    // the subscription is back: a published event is applied without waiting for a poll
    await waitFor(() => consumer.markCurrent(), 5000, 'feed healthy');
    const next = source.append();
    await controlPlane.publish(next);
    expect(await waitForPropagation(controlPlane, next.revision, { timeoutMs: 3000, published: true })).toMatchObject({ confirmed: true, expected: 1 });
    expect(applied).toEqual([1, 2, 3, 4, 5]);
  });

  it('a consumer started while Redis is down subscribes once it is back', async () => {
    const { relay, feed } = await setup();
    relay.set('refuse');
    const source = new FakeSource();
    const proxyFeed = feed(relay.url);
    const controlPlane = feed(REDIS_URL);
    const applied: number[] = [];
    const consumer = new FeedConsumer({
      feed: proxyFeed,
      source,
      initialize: () => source.head(),
      apply: (e) => void applied.push(e.revision),
      pollIntervalMs: 30,
      maxStalenessMs: 60_000,
      log: recordingLog().log,
    });
    cleanups.push(() => consumer.stop());
    await consumer.start();
    expect(consumer.ready).toBe(true);
    await controlPlane.publish(source.append());
    await waitFor(() => consumer.applied === 1, 5000, 'applied by polling');
    relay.set('forward');
    await waitFor(() => consumer.markCurrent(), 5000, 'subscribed');
    await controlPlane.publish(source.append());
    await waitFor(() => consumer.applied === 2);
    expect(applied).toEqual([1, 2]);
  });

  it('with Redis and the log both gone, the proxy turns feed_unavailable, then recovers', async () => {
    const { relay, feed } = await setup();
    const source = new FakeSource();
    const proxyFeed = feed(relay.url, { commandTimeoutMs: 300 });
    const { consumer } = await startSyncedProxy(cleanups, proxyFeed, source, { leaseMs: 300, pollIntervalMs: 30, maxStalenessMs: 300 });
    relay.set('refuse');
    source.failing = true;
    await waitFor(() => consumer.status() === 'feed_unavailable', 5000, 'feed_unavailable');
    relay.set('forward');
    source.append();
    source.failing = false;
    await waitFor(() => consumer.status() === 'ready' && consumer.applied === 1, 5000, 'recovery');
  });
});
