// HTTP limits of both servers, each shown with a real client: oversized headers and bodies,
// slow clients, keep-alive, and the upstream headers timeout.
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { ADMIN_TOKEN, startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let db: TestDatabase;
let kg: TestKeygate;
let cpPort = 0;
let pxPort = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  kg = await startTestKeygate({
    env: { DATABASE_URL: db.url, KEYGATE_UPSTREAM_HEADERS_TIMEOUT_MS: '300' },
    tuning: {
      http: { headersTimeoutMs: 500, requestTimeoutMs: 1500, keepAliveTimeoutMs: 300, maxBodyBytes: 64 * 1024 },
      proxyClient: { headersTimeoutMs: 500, requestTimeoutMs: 1500, keepAliveTimeoutMs: 300 },
    },
  });
  cpPort = Number(new URL(kg.url).port);
  pxPort = kg.running.proxy!.port;
});
afterAll(async () => {
  await kg?.stop();
  await db?.drop();
});

/** Sends raw bytes and returns what came back before the server closed (or `ms` passed). */
function raw(port: number, chunks: (string | { wait: number })[], ms = 4000): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = () => resolve({ text, closedAfterMs: Date.now() - started });
    const timer = setTimeout(() => {
      socket.destroy();
      done();
    }, ms);
    socket.on('data', (d) => (text += d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      done();
    });
    void (async () => {
      for (const c of chunks) {
        if (typeof c === 'string') socket.write(c);
        else await new Promise((r) => setTimeout(r, c.wait));
        if (socket.destroyed) return;
      }
    })();
  });
}

describe.each([
  ['control plane', () => cpPort, '/graphql'],
  ['proxy', () => pxPort, '/-/healthz'],
])('%s', (_name, port, path) => {
  it('answers 431 to oversized headers', async () => {
    const res = await fetch(`http://127.0.0.1:${port()}${path}`, { headers: { 'x-big': 'a'.repeat(20_000) } }).catch((e) => e);
    expect(res.status ?? 431).toBe(431);
  });

  it('closes a connection whose headers arrive too slowly', async () => {
    const r = await raw(port(), [`GET ${path} HTTP/1.1\r\nHost: x\r\n`, { wait: 2500 }, 'X-Late: 1\r\n\r\n'], 5000);
    expect(r.closedAfterMs).toBeLessThan(2500);
    expect(r.text === '' || r.text.startsWith('HTTP/1.1 408')).toBe(true);
  });

  it('closes idle keep-alive connections after the keep-alive timeout', async () => {
    const r = await raw(port(), [`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`], 5000);
    expect(r.text).toMatch(/^HTTP\/1\.1 \d{3}/);
    expect(r.closedAfterMs).toBeLessThan(2000);
  });
});

describe('control-plane bodies', () => {
  it('answers 413 to a body over the limit and 411 to a body of unknown length', async () => {
    const big = JSON.stringify({ query: `{ viewer { role } } # ${'x'.repeat(70_000)}` });
    const tooBig = await fetch(kg.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: big });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
    const chunked = await raw(cpPort, [
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`,
      '5\r\n{"que\r\n0\r\n\r\n',
    ]);
    expect(chunked.text).toMatch(/^HTTP\/1\.1 411/);
    const fine = await kg.gql('{ viewer { role } }');
    expect(fine.data).toEqual({ viewer: { role: 'ADMIN' } });
  });
});

describe('upstream headers timeout', () => {
  let silent: Server;
  const sockets = new Set<import('node:net').Socket>();
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  });

  it('answers 504 upstream_timeout when the upstream sends no headers in time, and the proxy stays healthy', async () => {
    silent = createServer((s) => {
      sockets.add(s); // accepts, never answers
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const upstreamPort = (silent.address() as import('node:net').AddressInfo).port;
    const project = await createProject(kg);
    const { secret, apiKey } = await createKey(kg, project.id, 'timeout-key');
    await createDeployment(kg, project.id, 'silent', { upstreamUrl: `http://127.0.0.1:${upstreamPort}`, authEnabled: true, apiKeyIds: [apiKey.id] });
    const res = await fetch(`http://127.0.0.1:${pxPort}/${project.slug}/silent/v1/models`, { headers: { 'x-api-key': secret } });
    expect(res.status).toBe(504);
    expect(((await res.json()) as any).error.code).toBe('upstream_timeout');
    expect((await fetch(`http://127.0.0.1:${pxPort}/-/healthz`)).status).toBe(200);
  });
});
