// Leases and acks from the proxy's side (startProxySync), and the confirmation a mutation waits
// for (waitForPropagation), over Redis and over the in-process feed.
import { afterEach, describe, expect, it } from 'vitest';
import type { Feed } from '../../src/feed/feed.ts';
import { createLocalFeed } from '../../src/feed/local-feed.ts';
import { waitForPropagation } from '../../src/feed/propagation.ts';
import { FakeSource, redisFeeds, sleep, startSyncedProxy, waitFor } from './helpers.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const newFeeds = () => redisFeeds(cleanups).feed;

const startProxy = (feed: Feed, source: FakeSource, proxyId: string, leaseMs = 3000) =>
  startSyncedProxy(cleanups, feed, source, { proxyId, leaseMs });

describe('startProxySync and waitForPropagation over Redis', () => {
  it('confirms once both live proxies have acked', async () => {
    const feed = newFeeds();
    const source = new FakeSource();
    const a = await startProxy(feed(), source, 'proxy-a');
    const b = await startProxy(feed(), source, 'proxy-b');
    const controlPlane = feed();
    expect([...(await controlPlane.liveProxies()).keys()].sort()).toEqual(['proxy-a', 'proxy-b']);

    for (let i = 0; i < 5; i++) {
      const event = source.append();
      await controlPlane.publish(event);
      const propagation = await waitForPropagation(controlPlane, event.revision, { timeoutMs: 5000, published: true });
      expect(propagation).toEqual({ revision: event.revision, confirmed: true, appliedBy: 2, expected: 2, lagging: [] });
    }
    expect(a.applied).toEqual([1, 2, 3, 4, 5]);
    expect(b.applied).toEqual([1, 2, 3, 4, 5]);
    await waitFor(() => a.sync.acked === 5 && b.sync.acked === 5);
  });

  it('is not confirmed when a live proxy does not ack', async () => {
    const feed = newFeeds();
    const source = new FakeSource();
    await startProxy(feed(), source, 'proxy-a');
    await startProxy(feed(), source, 'proxy-b');
    const controlPlane = feed();
    await controlPlane.renewLease('silent', 0, 10_000); // live, but never applies anything

    const event = source.append();
    await controlPlane.publish(event);
    // The wait always runs to its end (one proxy never acks): long enough for the two that do, over
    // Redis on a loaded machine.
    const propagation = await waitForPropagation(controlPlane, event.revision, { timeoutMs: 2000, published: true });
    // The proxy that did not ack is named, so the control plane's warning can say which one.
    expect(propagation).toEqual({ revision: 1, confirmed: false, appliedBy: 2, expected: 3, lagging: ['silent'] });
  });

  it('a proxy that catches up from the log acks too', async () => {
    const feed = newFeeds();
    const source = new FakeSource();
    const proxy = await startProxy(feed(), source, 'proxy-a');
    const controlPlane = feed();
    source.append(); // 1: never published
    const event = source.append(); // 2 reveals the gap
    await controlPlane.publish(event);
    const propagation = await waitForPropagation(controlPlane, 2, { timeoutMs: 5000, published: true });
    expect(propagation.confirmed).toBe(true);
    expect(proxy.applied).toEqual([1, 2]);
  });

  it('coalesces acks: one in flight, the last one carries the latest revision', async () => {
    const feed = newFeeds();
    const source = new FakeSource();
    let inFlight = 0;
    let maxInFlight = 0;
    const sent: number[] = [];
    const counting = (f: Feed): Feed => ({
      ...f,
      kind: f.kind,
      subscribe: f.subscribe,
      async ack(proxyId, revision) {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        sent.push(revision);
        try {
          await f.ack(proxyId, revision);
        } finally {
          inFlight -= 1;
        }
      },
    });
    const proxy = await startProxy(feed({ wrap: counting }), source, 'proxy-a');
    const controlPlane = feed();
    const events = Array.from({ length: 100 }, () => source.append());
    await Promise.all(events.map((e) => controlPlane.publish(e)));
    await waitFor(() => proxy.sync.acked === 100);
    expect(maxInFlight).toBe(1);
    expect(sent.at(-1)).toBe(100);
    expect(sent.length).toBeLessThanOrEqual(101);
    expect([...sent]).toEqual([...sent].sort((x, y) => x - y));
    expect((await controlPlane.liveProxies()).get('proxy-a')).toBe(100);
  });

  it('renews the lease with the applied revision, and stop() deletes it', async () => {
    const feed = newFeeds();
    const source = new FakeSource();
    source.append();
    source.append();
    // A TTL that outlasts a loaded machine's pauses between renewals (every third of it).
    const proxy = await startProxy(feed(), source, 'proxy-a', 1200);
    const controlPlane = feed();
    expect(await controlPlane.liveProxies()).toEqual(new Map([['proxy-a', 2]]));
    await sleep(2000); // longer than the TTL: renewals keep it live
    expect(await controlPlane.liveProxies()).toEqual(new Map([['proxy-a', 2]]));
    expect(proxy.sync.leaseHeld).toBe(true);
    await proxy.stop();
    expect(await controlPlane.liveProxies()).toEqual(new Map());
  });
});

describe('startProxySync over the in-process feed', () => {
  it('acks before publish() returns, so the mutation finds the proxy at its revision', async () => {
    const feed = createLocalFeed();
    const source = new FakeSource();
    const proxy = await startProxy(feed, source, 'local');
    expect(await feed.liveProxies()).toEqual(new Map([['local', 0]]));
    for (let i = 0; i < 3; i++) {
      const event = source.append();
      void feed.publish(event); // not even awaited: the apply and the ack are synchronous
      expect(proxy.applied.at(-1)).toBe(event.revision);
      expect((await feed.liveProxies()).get('local')).toBe(event.revision);
      const started = Date.now();
      const propagation = await waitForPropagation(feed, event.revision, { timeoutMs: 20_000, published: true });
      expect(propagation).toEqual({ revision: event.revision, confirmed: true, appliedBy: 1, expected: 1, lagging: [] });
      expect(Date.now() - started).toBeLessThan(10_000); // confirmed from the lease, no waiting for the timeout
    }
    await proxy.stop();
    expect(await feed.liveProxies()).toEqual(new Map());
  });
});
