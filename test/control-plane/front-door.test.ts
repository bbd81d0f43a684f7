// Issue 15, finding 9 (the control plane's part): GraphQL validated a document before checking the
// token, so unauthenticated callers learned input type names; any Origin was echoed with
// credentials allowed; nothing capped concurrent connections.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestKeygate, useKeygate } from '../helpers/keygate.ts';

const t = useKeygate();

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe('authentication comes before validation', () => {
  it('answers 401 UNAUTHENTICATED, naming nothing of the schema, to an invalid document without a valid token', async () => {
    const probes = [
      { query: 'mutation { createApiKey(input: { nope: 1 }) { secret } }' },
      { query: '{ projekt { id } }' },
      { query: 'query { node(id: 1) { ...on ApiKey { hash } } }' },
      [{ query: '{ viewer { role } }' }, { query: '{ nope }' }],
    ];
    for (const token of [null, 'kgat_wrongwrongwrongwrongwrongwrong']) {
      for (const probe of probes) {
        const r = await post(t.kg.url, probe, token ? { authorization: `Bearer ${token}` } : {});
        expect(r.status).toBe(401);
        const answers = Array.isArray(r.body) ? r.body : [r.body];
        for (const answer of answers) {
          expect(answer.errors.map((e: any) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
          expect(JSON.stringify(answer)).not.toMatch(/CreateApiKeyInput|Did you mean|Cannot query field|ApiKey|hash/);
        }
      }
    }
    // With a valid token the same document is validated as before.
    const valid = await post(t.kg.url, probes[1], { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(valid.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('CORS', () => {
  it('is off by default: no Access-Control-* header for any Origin, preflight included', async () => {
    const r = await post(t.kg.url, { query: '{ viewer { role } }' }, { authorization: `Bearer ${ADMIN_TOKEN}`, origin: 'https://evil.example' });
    expect(r.status).toBe(200);
    expect([...r.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
    const preflight = await fetch(t.kg.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect([...preflight.headers.keys()].filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('allows exactly the configured origins (KEYGATE_CORS_ORIGINS), without credentials', async () => {
    const kg = await startTestKeygate({ env: { DATABASE_URL: t.db.url, KEYGATE_CORS_ORIGINS: 'https://admin.example.com, http://localhost:5173' } });
    try {
      const allowed = await post(kg.url, { query: '{ viewer { role } }' }, { authorization: `Bearer ${ADMIN_TOKEN}`, origin: 'https://admin.example.com' });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      const other = await post(kg.url, { query: '{ viewer { role } }' }, { authorization: `Bearer ${ADMIN_TOKEN}`, origin: 'https://evil.example' });
      expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
      expect(other.headers.get('access-control-allow-origin') ?? null).not.toBe('*');
    } finally {
      await kg.stop();
    }
  });
});

/** Opens a TCP connection and sends the start of a request; resolves when it is open. */
function openConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Whether a keep-alive GET on this socket is answered (true) or the socket is closed first (false). */
function answered(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    socket.once('data', () => resolve(true));
    socket.once('close', () => resolve(false));
    socket.on('error', () => {});
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  });
}

describe('the control plane connection cap', () => {
  it('holds open connections, HTTP and WebSocket together, at KEYGATE_CONTROL_PLANE_MAX_CONNECTIONS for all clients together', async () => {
    const kg = await startTestKeygate({ env: { DATABASE_URL: t.db.url, KEYGATE_CONTROL_PLANE_MAX_CONNECTIONS: '4' } });
    const port = Number(new URL(kg.url).port);
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) sockets.push(await openConnection(port));
      for (const socket of sockets) expect(await answered(socket)).toBe(true);
      const fifth = await openConnection(port);
      sockets.push(fifth);
      expect(await answered(fifth)).toBe(false);
      sockets[0]!.destroy();
      // The server counts it out once it has seen the close: until then a new one is dropped at once
      // (taking no place), so try again for a while rather than sleep a guess.
      let kept = false;
      for (let i = 0; i < 100 && !kept; i++) {
        const again = await openConnection(port);
        sockets.push(again);
        kept = await answered(again);
        if (!kept) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(kept).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await kg.stop();
    }
  });
});
