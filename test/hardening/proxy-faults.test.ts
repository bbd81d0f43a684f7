// Faults through the real proxy: clients that vanish mid-stream and upstreams that reset, a
// thousand of each. After each batch the proxy still answers, every upstream request the proxy
// opened for a vanished client was closed (none left streaming to nobody), and the process's
// sockets, timers and connections return to what they were before.
//
// Counting: process.getActiveResourcesInfo() sees every socket of this process (test client,
// proxy's accepted connection, proxy's pooled upstream connection, upstream's accepted end), so
// a leak anywhere on the path shows; server.getConnections() of the proxy and of the upstream
// (whose accepted connections are the proxy's upstream pool seen from the other end) say where.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSecret } from '../../src/domain/secrets.ts';
import { ANSWERS } from '../../src/proxy/answers.ts';
import {
  activeResources,
  connectionsOf,
  type HardenedProxy,
  MARKER,
  type MarkerUpstream,
  pool,
  settle,
  startHardenedProxy,
  startMarkerUpstream,
  watchProcessErrors,
} from './proxy-helpers.ts';

const DISCONNECTS = 1000;
const RESETS = 1000;
const CONCURRENCY = 20;

let upstream: MarkerUpstream;
let proxy: HardenedProxy;
let watcher: ReturnType<typeof watchProcessErrors>;
const key = issueSecret('kg_');

/** What the upstream does, by the request's X-Fault header. */
function behave(req: http.IncomingMessage, res: http.ServerResponse): void {
  const fault = String(req.headers['x-fault'] ?? 'ok');
  const stream = (chunks: number, then: () => void) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    let n = 0;
    const tick = () => {
      if (res.destroyed) return;
      res.write(`data: {"n":${n}}\n\n`);
      if (++n >= chunks) return then();
      timer = setTimeout(tick, 5);
    };
    let timer = setTimeout(tick, 1);
    res.once('close', () => clearTimeout(timer));
  };
  switch (fault) {
    case 'stream': // long enough that only a closed connection ends it within the test
      return stream(2000, () => res.end('data: [DONE]\n\n'));
    case 'short-stream':
      return stream(5, () => res.end('data: [DONE]\n\n'));
    case 'late-stream': {
      const t = setTimeout(() => stream(2000, () => res.end()), 40);
      res.once('close', () => clearTimeout(t));
      return;
    }
    case 'reset-before':
      req.socket.destroy();
      return;
    case 'close-before': // a FIN rather than a reset, still before any response byte
      req.socket.end();
      return;
    case 'reset-mid-body': {
      // a sized (non-streaming) body cut short
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
      res.write(`{"partial":"${'x'.repeat(100)}`);
      const t = setTimeout(() => req.socket.destroy(), 5);
      res.once('close', () => clearTimeout(t));
      return;
    }
    case 'reset-mid':
      // Destroying in the same tick as the last write would drop that write inside Node itself,
      // before the proxy could see it; a few ms later the events are on the wire.
      return stream(1 + (Number(req.headers['x-n']) % 3), () => setTimeout(() => req.socket.destroy(), 5));
    default: {
      const body = JSON.stringify({ ok: true });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }
  }
}

beforeAll(async () => {
  watcher = watchProcessErrors();
  upstream = await startMarkerUpstream((req, res) => behave(req, res));
  proxy = await startHardenedProxy({
    revision: 1,
    apiKeys: [{ id: 'k1', projectId: 'p1', hash: key.hash, expiresAt: null }],
    deployments: [
      { id: 'd1', projectId: 'p1', projectSlug: 'acme', name: 'chat', upstreamUrl: `${upstream.url}/v1`, authEnabled: true, apiKeyIds: ['k1'] },
      { id: 'd2', projectId: 'p1', projectSlug: 'acme', name: 'open', upstreamUrl: `${upstream.url}/v1`, authEnabled: false, apiKeyIds: [] },
    ],
  });
});

afterAll(async () => {
  watcher?.stop();
  await proxy?.stop();
  await upstream?.stop();
});

// ---------- a client ----------

interface Outcome {
  status: number;
  /** SSE events read before the end */
  events: number;
  body: string;
  /** the response ended cleanly (false: cut, or we cut it) */
  complete: boolean;
  error?: string;
}

let seq = 0;
const HUNG = 'client got no end within 3 s';

/** Fails the whole batch at the first hung exchange (a proxy that leaves clients waiting). */
function hung<T extends Outcome>(o: T): T {
  if (o.error === HUNG) throw new Error(`${HUNG}: ${JSON.stringify(o)}`);
  return o;
}

/** One request on its own connection; `cutAfter` events (0: right at the headers) the client
 *  destroys its socket; `cutBeforeHeadersMs` destroys it before any answer. */
function call(fault: string, options: { cutAfter?: number; cutBeforeHeadersMs?: number; open?: boolean; n?: number } = {}): Promise<Outcome & { marker: string }> {
  const marker = `f${++seq}`;
  return new Promise((resolve) => {
    const out: Outcome & { marker: string } = { marker, status: 0, events: 0, body: '', complete: false };
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      resolve(out);
    };
    // Nothing here should take long: a hung exchange fails the test (see hung()) rather than
    // stalling it.
    const guard = setTimeout(() => {
      out.error = HUNG;
      req.destroy();
      finish();
    }, 3000);
    const req = http.request(
      {
        host: '127.0.0.1',
        port: proxy.port,
        path: options.open ? '/acme/open/chat/completions' : '/acme/chat/chat/completions',
        method: 'POST',
        agent: false,
        headers: { [MARKER]: marker, 'x-fault': fault, 'x-n': String(options.n ?? 0), ...(options.open ? {} : { 'x-api-key': key.secret }) },
      },
      (res) => {
        out.status = res.statusCode ?? 0;
        if (options.cutAfter === 0) {
          req.destroy();
          return finish();
        }
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          out.body += text;
          out.events = out.body.split('\n\n').length - 1;
          if (options.cutAfter !== undefined && out.events >= options.cutAfter) {
            req.destroy();
            finish();
          }
        });
        res.on('error', () => {});
        res.on('close', () => {
          out.complete = res.complete;
          finish();
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      out.error ??= e.code ?? e.message;
      finish();
    });
    if (options.cutBeforeHeadersMs !== undefined) {
      setTimeout(() => {
        req.destroy();
        finish();
      }, options.cutBeforeHeadersMs);
    }
    req.end('{"stream":true}');
  });
}

// ---------- measuring ----------

interface Reading {
  sockets: number;
  timers: number;
  proxyConnections: number;
  upstreamConnections: number;
}

async function reading(): Promise<Reading> {
  // Idle pooled upstream connections are the pool doing its job, not a leak: the upstream closes
  // them (closeIdleConnections spares a connection with a request in flight), so what remains is
  // only what some request still holds.
  upstream.server.closeIdleConnections();
  await new Promise((r) => setImmediate(r));
  const r = activeResources();
  return {
    sockets: r.TCPSocketWrap ?? 0,
    timers: r.Timeout ?? 0,
    proxyConnections: await connectionsOf(proxy.proxy.server),
    upstreamConnections: await connectionsOf(upstream.server),
  };
}

/** Back to (or below) the baseline: no socket, timer or connection left behind. */
async function expectBaseline(baseline: Reading): Promise<Reading> {
  const within = (r: Reading) =>
    r.sockets <= baseline.sockets && r.timers <= baseline.timers && r.proxyConnections === 0 && r.upstreamConnections <= baseline.upstreamConnections;
  const after = await settle(reading, within, 5000);
  expect(after.proxyConnections, JSON.stringify({ baseline, after })).toBe(0);
  expect(after.upstreamConnections, JSON.stringify({ baseline, after })).toBeLessThanOrEqual(baseline.upstreamConnections);
  expect(after.sockets, JSON.stringify({ baseline, after, resources: activeResources() })).toBeLessThanOrEqual(baseline.sockets);
  expect(after.timers, JSON.stringify({ baseline, after })).toBeLessThanOrEqual(baseline.timers);
  console.log(`proxy-faults: baseline ${JSON.stringify(baseline)} after ${JSON.stringify(after)}`);
  return after;
}

/** A settled baseline, the upstream pool warmed by a plain request and a finished stream. */
async function baseline(): Promise<Reading> {
  expect((await call('ok')).status).toBe(200);
  const s = await call('short-stream');
  expect([s.status, s.complete, s.events]).toEqual([200, true, 6]);
  // Settled: the client connections are gone and the reading has not changed for 200 ms (the
  // test runner itself holds a timer for a moment when a test starts).
  let last = await reading();
  let stableSince = Date.now();
  return settle(
    async () => {
      const r = await reading();
      if (JSON.stringify(r) !== JSON.stringify(last)) stableSince = Date.now();
      last = r;
      return r;
    },
    (r) => r.proxyConnections === 0 && Date.now() - stableSince >= 200,
    3000,
  );
}

/** The proxy still answers, and still streams. */
async function stillServing(): Promise<void> {
  const health = await new Promise<number>((resolve) =>
    http.get({ host: '127.0.0.1', port: proxy.port, path: '/-/healthz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }),
  );
  expect(health).toBe(200);
  const ok = await call('ok');
  expect([ok.status, ok.body]).toEqual([200, '{"ok":true}']);
  const s = await call('short-stream');
  expect([s.status, s.complete, s.events]).toEqual([200, true, 6]);
  expect(watcher.errors).toEqual([]);
}

const bodyOf = (code: keyof typeof ANSWERS) => ANSWERS[code].body.toString();

// ---------- the faults ----------

describe('faults', () => {
  it(`${DISCONNECTS} clients vanish mid-stream (and 200 more at or before the headers): every upstream request closes, nothing leaks`, async () => {
    const base = await baseline();
    const streamed: Array<Outcome & { marker: string }> = [];
    const early: Array<Outcome & { marker: string }> = [];
    await pool(DISCONNECTS, CONCURRENCY, async (i) => {
      // 1–5 events read, then gone; guarded and open deployments alike
      streamed[i] = hung(await call('stream', { cutAfter: 1 + (i % 5), open: i % 2 === 1 }));
    });
    // And 200 more: 100 gone right at the headers, 100 before any answer.
    await pool(200, CONCURRENCY, async (i) => {
      early[i] = hung(i % 2 ? await call('stream', { cutAfter: 0, open: i % 4 === 1 }) : await call('late-stream', { cutBeforeHeadersMs: 5 + (i % 20), open: i % 4 === 0 }));
    });
    const markers = [...streamed, ...early].map((o) => o.marker);

    expect(streamed.filter((o, i) => o.status !== 200 || o.error !== undefined || o.events < 1 + (i % 5))).toEqual([]);
    expect(early.filter((o, i) => o.status !== (i % 2 ? 200 : 0))).toEqual([]);

    // Every request reached the upstream, and every one was closed there, not finished: none
    // left streaming to a client that is gone.
    await settle(
      () => upstream.open.size,
      (n) => n === 0,
      5000,
    );
    expect(upstream.open.size).toBe(0);
    const reached = markers.filter((m) => upstream.byMarker.has(m));
    expect(reached.length).toBeGreaterThanOrEqual(DISCONNECTS);
    expect(reached.filter((m) => !upstream.aborted.has(m))).toEqual([]);
    expect(reached.every((m) => upstream.byMarker.get(m)!.count === 1)).toBe(true);

    await expectBaseline(base);
    await stillServing();
    await expectBaseline(base);
  }, 90_000);

  it(`${RESETS} upstream resets: 502 before headers, a cut response after; nothing leaks`, async () => {
    const base = await baseline();
    const before: Array<Outcome & { marker: string; fault: string }> = [];
    const mid: Array<Outcome & { marker: string; fault: string }> = [];
    // Of every ten: four resets and one close before headers, four resets mid-stream, one mid-body.
    const FAULTS = ['reset-before', 'reset-mid', 'reset-before', 'reset-mid', 'close-before', 'reset-before', 'reset-mid', 'reset-before', 'reset-mid', 'reset-mid-body'];
    await pool(RESETS, CONCURRENCY, async (i) => {
      const fault = FAULTS[i % FAULTS.length]!;
      const o = hung(await call(fault, { n: i, open: i % 3 === 0 }));
      (fault.endsWith('-before') ? before : mid).push({ ...o, fault });
    });
    expect(before.length + mid.length).toBe(RESETS);

    // Reset before headers: a 502 upstream_unavailable in the contract's shape, every time.
    expect(before.filter((o) => o.status !== 502 || o.body !== bodyOf('upstream_unavailable') || !o.complete)).toEqual([]);
    // Reset mid-response: the client had the headers and some of the body, then its response was
    // cut (never a clean end that would pass a partial answer off as whole).
    expect(
      mid.filter((o) => o.status !== 200 || o.complete || (o.fault === 'reset-mid' ? o.events < 1 || o.body.includes('[DONE]') : !o.body.startsWith('{"partial"'))),
    ).toEqual([]);
    for (const o of [...before, ...mid]) expect(upstream.byMarker.get(o.marker)?.count).toBe(1);
    await settle(
      () => upstream.open.size,
      (n) => n === 0,
      5000,
    );
    expect(upstream.open.size).toBe(0);

    await expectBaseline(base);
    await stillServing();
    await expectBaseline(base);
  }, 90_000);
});
