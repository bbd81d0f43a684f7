// Through createProxyServer: what happens when the upstream is down, slow, streaming, cut, or at
// an address the policy refuses, and when the client leaves early.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { ANSWERS } from '../../src/proxy/answers.ts';
import { closeServer, listen, makeWorld, request, sleep, startProxy, startUpstream, until } from './helpers.ts';

const bodyOf = (code: keyof typeof ANSWERS) => JSON.parse(ANSWERS[code].body.toString());

async function freePort(): Promise<number> {
  const s = http.createServer();
  const port = await listen(s);
  await closeServer(s);
  return port;
}

describe('upstream failures', () => {
  it('502 upstream_unavailable when the upstream refuses connections', async () => {
    const world = makeWorld({ chat: `http://127.0.0.1:${await freePort()}` });
    const proxy = await startProxy(world.snapshot);
    const res = await request(proxy.port, '/acme/open/v1/models');
    expect(res.status).toBe(502);
    expect(res.json()).toEqual(bodyOf('upstream_unavailable'));
    expect(res.headers['x-request-id']).toBeDefined();
  });

  it('502 upstream_unavailable when the upstream resets before answering', async () => {
    const upstream = await startUpstream((req) => req.socket.destroy());
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    const res = await request(proxy.port, '/acme/open/v1/models');
    expect(res.status).toBe(502);
    expect(res.json().error.code).toBe('upstream_unavailable');
  });

  it('504 upstream_timeout when headers do not come in time, and the upstream request is ended', async () => {
    const upstream = await startUpstream(() => {}); // never answers
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot, { headersTimeoutMs: 150 });
    const started = performance.now();
    const res = await request(proxy.port, '/acme/open/v1/chat/completions', { body: '{}' });
    expect(res.status).toBe(504);
    expect(res.json()).toEqual(bodyOf('upstream_timeout'));
    expect(performance.now() - started).toBeLessThan(2000);
    await until(() => upstream.aborted.length === 1);
  });

  it('a long stream is not cut by the headers timeout once headers came', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      const t = setInterval(() => {
        res.write(`data: ${n}\n\n`);
        if (++n === 5) {
          clearInterval(t);
          res.end();
        }
      }, 60);
    });
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot, { headersTimeoutMs: 100, idleTimeoutMs: 200 });
    const res = await request(proxy.port, '/acme/open/stream');
    expect(res.status).toBe(200);
    expect(res.body.match(/data:/g)).toHaveLength(5);
  });

  it('idle timeout between bytes cuts the stream for both sides', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n'); // then silence
    });
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot, { idleTimeoutMs: 150 });
    const outcome = await new Promise<string>((resolve) => {
      http.get({ host: '127.0.0.1', port: proxy.port, path: '/acme/open/sse', agent: false }, (res) => {
        res.on('data', () => {});
        res.on('error', () => {});
        res.on('close', () => resolve(res.complete ? 'complete' : 'cut'));
      });
    });
    expect(outcome).toBe('cut');
    await until(() => upstream.aborted.length === 1);
  });

  it('an upstream reset mid-stream reaches the client as a cut response', async () => {
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      setTimeout(() => req.socket.destroy(), 50);
    });
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('client hangs'), 2000);
      http.get({ host: '127.0.0.1', port: proxy.port, path: '/acme/open/sse', agent: false }, (res) => {
        res.resume();
        res.on('error', () => {});
        res.on('close', () => {
          clearTimeout(timer);
          resolve(res.complete ? 'complete' : 'cut');
        });
      });
    });
    expect(outcome).toBe('cut');
  });
});

describe('keep-alive pools', () => {
  it('reuses upstream connections, whatever Connection header the clients send', async () => {
    const upstream = await startUpstream();
    let connections = 0;
    upstream.server.on('connection', () => connections++);
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    for (let i = 0; i < 5; i++) {
      const res = await request(proxy.port, '/acme/open/x', { headers: { connection: i % 2 ? 'close' : 'keep-alive' } });
      expect(res.status).toBe(200);
    }
    expect(upstream.received).toHaveLength(5);
    expect(upstream.received.every((r) => r.headers.connection === 'keep-alive')).toBe(true);
    expect(connections).toBe(1);
  });
});

describe('streaming', () => {
  it('chunks arrive as they are sent, not buffered', async () => {
    const sentAt: number[] = [];
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      let n = 0;
      const t = setInterval(() => {
        sentAt.push(performance.now());
        res.write(`data: {"n":${n}}\n\n`);
        if (++n === 5) {
          clearInterval(t);
          res.write('data: [DONE]\n\n');
          res.end();
        }
      }, 80);
    });
    const world = makeWorld({ chat: upstream.url });
    const proxy = await startProxy(world.snapshot);
    const arrivals: Array<{ at: number; text: string }> = [];
    let headersAt = 0;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: proxy.port, path: '/acme/chat/v1/chat/completions', method: 'POST', headers: { 'x-api-key': world.linked.secret }, agent: false },
        (res) => {
          headersAt = performance.now();
          expect(res.headers['content-type']).toBe('text/event-stream');
          res.setEncoding('utf8');
          res.on('data', (text: string) => arrivals.push({ at: performance.now(), text }));
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end('{"stream":true}');
    });
    // The upstream flushed its headers at once; so does the proxy, before the first chunk exists.
    expect(headersAt).toBeLessThan(sentAt[0]!);
    const chunks = arrivals.filter((a) => a.text.includes('"n"'));
    expect(chunks).toHaveLength(5);
    chunks.forEach((chunk, i) => {
      expect(chunk.text).toContain(`{"n":${i}}`);
      // Each chunk reaches the client before the upstream even sends the next one (80 ms later).
      expect(chunk.at - sentAt[i]!).toBeLessThan(60);
      if (i + 1 < sentAt.length) expect(chunk.at).toBeLessThan(sentAt[i + 1]!);
    });
  });

  it('a large body reaches a slow client whole, and the upstream is held back while the client does not read', async () => {
    const CHUNK = Buffer.alloc(64 * 1024, 'x');
    const CHUNKS = 512; // 32 MB: more than the sockets on both sides buffer
    let sent = 0;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const more = () => {
        while (sent < CHUNKS) {
          sent++;
          if (!res.write(CHUNK)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: proxy.port, path: '/acme/open/large', agent: false }, resolve).on('error', reject);
    });
    res.pause();
    // The upstream writes until the buffers between it and the client that does not read are full,
    // then waits. Looked at once it has written nothing for a while: a proxy that read the whole
    // body into memory would have let it write to the end, however long that took.
    for (let last = -1, i = 0; i < 100 && sent !== last; i++) {
      last = sent;
      await sleep(300);
    }
    expect(sent).toBeLessThan(CHUNKS);
    let received = 0;
    res.on('data', (c: Buffer) => (received += c.length));
    res.resume();
    await new Promise((resolve, reject) => res.on('end', resolve).on('error', reject));
    expect(received).toBe(CHUNK.length * CHUNKS);
  });

  it('a client that leaves mid-stream ends the upstream request', async () => {
    let upstreamClosed = false;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const t = setInterval(() => res.write('data: tick\n\n'), 20);
      res.on('close', () => {
        clearInterval(t);
        upstreamClosed = true;
      });
    });
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    await new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: proxy.port, path: '/acme/open/sse', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
    });
    await until(() => upstreamClosed);
    expect(upstream.aborted).toEqual(['/sse']);
  });

  it('a client that leaves before the headers ends the upstream request', async () => {
    const upstream = await startUpstream(() => {}); // never answers
    const proxy = await startProxy(makeWorld({ chat: upstream.url }).snapshot);
    const req = http.request({ host: '127.0.0.1', port: proxy.port, path: '/acme/open/slow', method: 'POST', agent: false });
    req.on('error', () => {});
    req.end('{}');
    await until(() => upstream.received.length === 1);
    req.destroy();
    await until(() => upstream.aborted.length === 1);
  });
});

describe('upstream address policy', () => {
  it('refuses a link-local upstream with 502 and a clear message, without connecting', async () => {
    const world = makeWorld({ chat: 'http://169.254.169.254/latest/meta-data' });
    const proxy = await startProxy(world.snapshot, { connectTimeoutMs: 300 });
    const res = await request(proxy.port, '/acme/open/');
    expect(res.status).toBe(502);
    expect(res.json().error.code).toBe('upstream_unavailable');
    expect(res.json().error.message).toMatch(/upstream policy/);
  });

  it('refuses a hostname that resolves to a denied address, and an address literal in deny', async () => {
    const upstream = await startUpstream();
    let connections = 0;
    upstream.server.on('connection', () => connections++);
    const world = makeWorld({ chat: `http://localhost:${upstream.port}`, open: `http://127.0.0.1:${upstream.port}` });
    const proxy = await startProxy(world.snapshot, { deny: ['127.0.0.0/8', '::1/128'] });
    const byName = await request(proxy.port, '/acme/chat/v1/models', { headers: { 'x-api-key': world.linked.secret } });
    const byLiteral = await request(proxy.port, '/acme/open/v1/models');
    for (const res of [byName, byLiteral]) {
      expect(res.status).toBe(502);
      expect(res.json().error.message).toMatch(/upstream policy/);
    }
    await sleep(50);
    expect(connections).toBe(0);
  });

  it('allow opens a listed address again', async () => {
    const upstream = await startUpstream();
    const world = makeWorld({ chat: upstream.url });
    const proxy = await startProxy(world.snapshot, { deny: ['127.0.0.0/8'], allow: ['127.0.0.1'] });
    expect((await request(proxy.port, '/acme/open/v1/models')).status).toBe(200);
  });
});
