// FeedConsumer: the start protocol, ordering, gaps, reconnects, polling, reloads and staleness,
// over the Redis feed and the in-process feed, with an in-memory change log.
import { afterEach, describe, expect, it } from 'vitest';
import { FeedConsumer, type FeedConsumerOptions } from '../../src/feed/consumer.ts';
import type { ChangeEvent } from '../../src/feed/events.ts';
import type { Feed, FeedHandlers } from '../../src/feed/feed.ts';
import { createLocalFeed } from '../../src/feed/local-feed.ts';
import { FakeSource, killConnection, makeEvent, recordingLog, redisFeeds, sleep, uniqueName, waitFor } from './helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A consumer whose state is the list of applied revisions; initialize() loads the source's head. */
function harness(feed: Feed, source: FakeSource, overrides: Partial<FeedConsumerOptions> = {}) {
  const recorded = recordingLog();
  const state = { applied: [] as number[], loads: [] as Array<{ kind: 'initialize' | 'reload'; revision: number }> };
  const load = (kind: 'initialize' | 'reload') => async () => {
    const revision = await source.head();
    state.loads.push({ kind, revision });
    return revision;
  };
  const consumer = new FeedConsumer({
    feed,
    source,
    initialize: load('initialize'),
    reload: load('reload'),
    apply: (event) => void state.applied.push(event.revision),
    pollIntervalMs: 60_000,
    maxStalenessMs: 60_000,
    log: recorded.log,
    ...overrides,
  });
  cleanups.push(() => consumer.stop());
  return { consumer, state, ...recorded };
}

const redisSetup = () => redisFeeds(cleanups);

/** Publishes the event after recording it in the source, as a mutation does. */
async function commit(source: FakeSource, publisher: Feed | null): Promise<ChangeEvent> {
  const event = source.append();
  if (publisher) await publisher.publish(event);
  return event;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('FeedConsumer', () => {
  it('subscribes before loading, buffers events meanwhile and applies the newer ones in order', async () => {
    const source = new FakeSource();
    for (let i = 0; i < 3; i++) source.append();
    const order: string[] = [];
    const inner = createLocalFeed();
    let handlers: FeedHandlers | null = null;
    const feed: Feed = {
      ...inner,
      async subscribe(h) {
        order.push('subscribe');
        handlers = h;
        return inner.subscribe(h);
      },
    };
    const { consumer, state } = harness(feed, source, {
      initialize: async () => {
        order.push('initialize');
        // Events arrive while the snapshot is read: one it already reflects, newer ones out of order.
        handlers!.onEvent(makeEvent(3));
        source.append();
        source.append();
        handlers!.onEvent(makeEvent(5));
        handlers!.onEvent(makeEvent(4));
        return 3;
      },
    });
    const notified: Array<[number, number | null]> = [];
    consumer.onApplied((revision, event) => notified.push([revision, event?.revision ?? null]));
    expect(consumer.status()).toBe('not_ready');
    await consumer.start();
    expect(order).toEqual(['subscribe', 'initialize']);
    expect(consumer.ready).toBe(true);
    expect(consumer.status()).toBe('ready');
    expect(state.applied).toEqual([4, 5]);
    expect(consumer.applied).toBe(5);
    expect(notified).toEqual([
      [3, null],
      [4, 4],
      [5, 5],
    ]);
  });

  it('applies events published on Redis, and drops duplicates and old ones', async () => {
    const { feed } = redisSetup();
    const source = new FakeSource();
    const publisher = feed();
    const { consumer, state } = harness(feed(), source);
    await consumer.start();
    for (let i = 0; i < 20; i++) await commit(source, publisher);
    await publisher.publish(makeEvent(5));
    await publisher.publish(makeEvent(20));
    await waitFor(() => consumer.applied === 20);
    await sleep(50);
    expect(state.applied).toEqual(range(1, 20));
  });

  it('recovers a dropped message through a catch-up read, in order', async () => {
    const { feed } = redisSetup();
    const source = new FakeSource();
    const publisher = feed();
    const { consumer, state } = harness(feed(), source);
    await consumer.start();
    await commit(source, publisher); // 1
    await commit(source, publisher); // 2
    await commit(source, null); // 3: lost on the way
    await commit(source, publisher); // 4: reveals the gap
    await commit(source, publisher); // 5
    await waitFor(() => consumer.applied === 5);
    expect(state.applied).toEqual([1, 2, 3, 4, 5]);
  });

  it('does not run catch-ups concurrently and reads the log in pages', async () => {
    const source = new FakeSource();
    const feed = createLocalFeed();
    let inFlight = 0;
    let maxInFlight = 0;
    const slow: FakeSource = Object.assign(Object.create(source), {
      async eventsAfter(revision: number, limit: number) {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(20);
        inFlight -= 1;
        return source.eventsAfter(revision, limit);
      },
    });
    const { consumer, state } = harness(feed, slow, { batchSize: 7 });
    await consumer.start();
    for (let i = 0; i < 30; i++) source.append();
    // Events 31..40 published with 1..30 missing: every one of them finds a gap.
    for (let i = 0; i < 10; i++) await feed.publish(source.append());
    await waitFor(() => consumer.applied === 40);
    expect(state.applied).toEqual(range(1, 40));
    expect(maxInFlight).toBe(1);
  });

  it('catches up after the Redis subscriber connection is killed', async () => {
    const { feed, redis } = redisSetup();
    const source = new FakeSource();
    const publisher = feed();
    const name = uniqueName();
    const { consumer, state, lines } = harness(feed({ name }), source);
    await consumer.start();
    await commit(source, publisher);
    await waitFor(() => consumer.applied === 1);
    expect(await killConnection(redis, `${name}:sub`)).toBe(1);
    // Committed while the subscription was down: never published to this consumer.
    await commit(source, null);
    await commit(source, null);
    await waitFor(() => consumer.applied === 3, 10_000, 'catch-up after reconnect');
    expect(state.applied).toEqual([1, 2, 3]);
    expect(lines.some((l) => /reconnect/.test(String(l.reason)))).toBe(true);
    // the subscription works again
    await commit(source, publisher);
    await waitFor(() => consumer.applied === 4);
  });

  it('an onReconnect catch-up on the in-process feed path works too', async () => {
    const source = new FakeSource();
    const inner = createLocalFeed();
    let handlers: FeedHandlers | null = null;
    const feed: Feed = { ...inner, subscribe: async (h) => ((handlers = h), inner.subscribe(h)) };
    const { consumer, state } = harness(feed, source);
    await consumer.start();
    source.append();
    source.append();
    handlers!.onDisconnect?.();
    expect(consumer.markCurrent()).toBe(false); // the subscription is down: no proof
    handlers!.onReconnect?.();
    await waitFor(() => consumer.applied === 2);
    expect(state.applied).toEqual([1, 2]);
    expect(consumer.markCurrent()).toBe(true);
  });

  it('polls the head and catches up when nothing is published', async () => {
    const source = new FakeSource();
    const { consumer, state } = harness(createLocalFeed(), source, { pollIntervalMs: 30 });
    await consumer.start();
    source.append();
    source.append();
    source.append();
    await waitFor(() => consumer.applied === 3, 5000, 'poll catch-up');
    expect(state.applied).toEqual([1, 2, 3]);
  });

  it('reloads when it is behind the retained log', async () => {
    const { feed } = redisSetup();
    const source = new FakeSource();
    const publisher = feed();
    const { consumer, state } = harness(feed(), source);
    const notified: Array<[number, boolean]> = [];
    consumer.onApplied((revision, event) => notified.push([revision, event === null]));
    await consumer.start();
    await commit(source, publisher);
    await commit(source, publisher);
    await waitFor(() => consumer.applied === 2);
    for (let i = 0; i < 8; i++) await commit(source, null); // 3..10, missed
    source.prune(9); // the log keeps 9 and 10 only
    await commit(source, publisher); // 11 reveals the gap
    await waitFor(() => consumer.applied === 11);
    expect(state.loads.map((l) => l.kind)).toEqual(['initialize', 'reload']);
    expect(state.loads[1]!.revision).toBeGreaterThanOrEqual(10);
    // 1 and 2 applied one by one; after the reload only what it did not reflect
    const reloadedAt = state.loads[1]!.revision;
    expect(state.applied).toEqual([1, 2, ...range(reloadedAt + 1, 11)]);
    expect(notified.filter(([, reloaded]) => reloaded).map(([r]) => r)).toEqual([0, state.loads[1]!.revision]);
  });

  it('reloads when the log was pruned between the retention check and the read', async () => {
    const source = new FakeSource();
    const feed = createLocalFeed();
    const racing: FakeSource = Object.assign(Object.create(source), {
      async oldestRetained() {
        return 1; // stale answer: the log is pruned right after
      },
    });
    const { consumer, state } = harness(feed, racing);
    await consumer.start();
    for (let i = 0; i < 5; i++) source.append();
    source.prune(4);
    await feed.publish(source.append()); // 6
    await waitFor(() => consumer.applied === 6);
    expect(state.loads.map((l) => l.kind)).toEqual(['initialize', 'reload']);
  });

  it('reloads when applying an event throws', async () => {
    const source = new FakeSource();
    const feed = createLocalFeed();
    let failOn = 2;
    const { consumer, state, lines } = harness(feed, source, {
      apply: (e) => {
        if (e.revision === failOn) throw new Error('bad event');
        state.applied.push(e.revision);
      },
    });
    await consumer.start();
    await feed.publish(source.append());
    await feed.publish(source.append()); // 2 throws
    failOn = -1;
    await waitFor(() => state.loads.length === 2);
    await waitFor(() => consumer.applied === 2);
    expect(state.loads[1]).toEqual({ kind: 'reload', revision: 2 });
    expect(lines.some((l) => l.level === 50 && /applying a change failed/.test(l.msg))).toBe(true);
  });

  it('reports feed_unavailable when it cannot prove itself current, and recovers', async () => {
    const source = new FakeSource();
    const feed = createLocalFeed();
    // A staleness bound well above a loaded machine's pauses (a timer 150 ms late found it stale
    // before its poll ran), and a wait past it.
    const { consumer, lines } = harness(feed, source, { pollIntervalMs: 20, maxStalenessMs: 1000 });
    const statuses: string[] = [];
    consumer.onStatusChange((s) => statuses.push(s));
    await consumer.start();
    expect(consumer.status()).toBe('ready');
    await sleep(1500);
    expect(consumer.status()).toBe('ready'); // the polls prove it

    source.failing = true; // Postgres down, and no lease renewal proves anything either
    await waitFor(() => consumer.status() === 'feed_unavailable', 5000, 'feed_unavailable');
    source.failing = false;
    await waitFor(() => consumer.status() === 'ready', 5000, 'recovery');
    expect(statuses).toEqual(['ready', 'feed_unavailable', 'ready']);
    expect(lines.some((l) => l.level === 40 && /feed_unavailable/.test(l.msg))).toBe(true);
    expect(lines.some((l) => /proven current again/.test(l.msg))).toBe(true);
  });

  it('markCurrent keeps it ready without Postgres, but not while a gap is unfilled', async () => {
    const source = new FakeSource();
    const feed = createLocalFeed();
    // As above: a staleness bound above a loaded machine's pauses, and renewals for twice as long.
    const { consumer } = harness(feed, source, { pollIntervalMs: 20, maxStalenessMs: 1000 });
    await consumer.start();
    source.failing = true;
    for (let i = 0; i < 10; i++) {
      expect(consumer.markCurrent()).toBe(true); // healthy feed, no gap: a lease renewal proves it
      await sleep(200);
    }
    expect(consumer.status()).toBe('ready');

    // A gap it cannot fill while Postgres is down: renewals no longer count.
    source.failing = false;
    source.append();
    source.failing = true;
    await feed.publish(source.append()); // revision 2, 1 missing
    await sleep(10);
    expect(consumer.markCurrent()).toBe(false);
    await waitFor(() => consumer.status() === 'feed_unavailable', 5000, 'feed_unavailable');
    source.failing = false;
    await waitFor(() => consumer.applied === 2 && consumer.status() === 'ready', 5000, 'gap filled');
    expect(consumer.markCurrent()).toBe(true);
  });

  it('starts while Redis is down, polls, and subscribes once Redis is reachable', async () => {
    const source = new FakeSource();
    const local = createLocalFeed();
    let down = true;
    const feed: Feed = {
      ...local,
      subscribe: async (h) => {
        if (down) throw new Error('redis is unavailable');
        return local.subscribe(h);
      },
    };
    const { consumer, state } = harness(feed, source, { pollIntervalMs: 20 });
    await consumer.start();
    expect(consumer.ready).toBe(true);
    expect(consumer.markCurrent()).toBe(false);
    source.append();
    await waitFor(() => consumer.applied === 1);
    down = false;
    await waitFor(() => consumer.markCurrent(), 5000, 'subscription established');
    await local.publish(source.append());
    expect(state.applied).toEqual([1, 2]); // applied synchronously within publish()
  });

  it('rejects start() when initialize fails, and unsubscribes', async () => {
    const source = new FakeSource();
    const feed = createLocalFeed();
    const { consumer } = harness(feed, source, {
      initialize: async () => {
        throw new Error('database down');
      },
    });
    await expect(consumer.start()).rejects.toThrow('database down');
    expect(consumer.status()).toBe('not_ready');
    await feed.publish(makeEvent(1)); // no subscriber left: nothing to throw
  });

  it('never logs payloads', async () => {
    const { feed } = redisSetup();
    const source = new FakeSource();
    const publisher = feed();
    const { consumer, text } = harness(feed(), source);
    await consumer.start();
    await commit(source, publisher);
    await commit(source, null);
    await commit(source, publisher);
    await waitFor(() => consumer.applied === 3);
    expect(text()).not.toMatch(/"h\d+"|hash/);
  });
});
