// Issue 15, finding 2: one token, one graphql-ws connection, 10,000 `subscribe` messages with
// distinct aliases were all accepted, and one updateApiKey then blocked the process ~10 s. Now a
// connection runs at most 100 subscriptions (the excess gets an `error` message with code
// TOO_MANY_SUBSCRIPTIONS) and a token holds at most 1,000 connections (the excess is closed 1013).
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/fixtures.ts';
import { ADMIN_TOKEN, startTestKeygate, useKeygate } from '../helpers/keygate.ts';

const t = useKeygate();

interface Session {
  socket: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  acked: Promise<boolean>;
}

function open(url: string, token = ADMIN_TOKEN): Session {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: any[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const acked = new Promise<boolean>((resolve) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      messages.push(message);
      if (message.type === 'connection_ack') resolve(true);
    });
    void closed.then(() => resolve(false));
  });
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  return { socket, messages, closed, acked };
}

async function until(check: () => boolean, what: string, ms = 20_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('graphql-ws limits', () => {
  it('runs 100 subscriptions on one connection and answers the 101st with an error TOO_MANY_SUBSCRIPTIONS', async () => {
    const project = await createProject(t.kg);
    const before = t.kg.running.controlPlane!.stats().subscribers;
    const session = open(t.kg.url);
    expect(await session.acked).toBe(true);
    const subscribe = (i: number) =>
      session.socket.send(
        JSON.stringify({
          id: `s${i}`,
          type: 'subscribe',
          payload: { query: `subscription($p: ID!) { a${i}: projectEvents(projectId: $p) { revision } }`, variables: { p: project.id } },
        }),
      );
    for (let i = 0; i < 150; i++) subscribe(i);
    await until(() => session.messages.filter((m) => m.type === 'error').length === 50, '50 refusals');
    await until(() => t.kg.running.controlPlane!.stats().subscribers - before === 100, '100 running subscriptions');
    const refusals = session.messages.filter((m) => m.type === 'error');
    expect(new Set(refusals.map((m) => m.id)).size).toBe(50);
    for (const refusal of refusals) expect(refusal.payload[0].extensions).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS', maxSubscriptions: 100 });
    expect(session.socket.readyState).toBe(WebSocket.OPEN); // the connection and its 100 subscriptions stay

    // Completing one makes room for another.
    session.socket.send(JSON.stringify({ id: 's0', type: 'complete' }));
    await until(() => t.kg.running.controlPlane!.stats().subscribers - before === 99, 'one completed');
    subscribe(1000);
    await until(() => t.kg.running.controlPlane!.stats().subscribers - before === 100, 'the new one running');
    expect(session.messages.filter((m) => m.type === 'error' && m.id === 's1000')).toEqual([]);
    session.socket.close();
    await session.closed;
  });

  it('closes a token\'s connection over KEYGATE_WS_MAX_CONNECTIONS_PER_TOKEN with 1013, and admits one again when another ends', async () => {
    const kg = await startTestKeygate({ env: { DATABASE_URL: t.db.url, KEYGATE_WS_MAX_CONNECTIONS_PER_TOKEN: '2' } });
    const sessions: Session[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        sessions.push(open(kg.url));
        expect(await sessions[i]!.acked).toBe(true);
      }
      const third = open(kg.url);
      sessions.push(third);
      expect(await third.acked).toBe(false);
      expect((await third.closed).code).toBe(1013);
      sessions[0]!.socket.close();
      await sessions[0]!.closed;
      // The client sees the close before the server has let the session go (and released its count).
      await until(() => kg.running.controlPlane!.stats().wsClients === 1, 'the server to let the closed ones go');
      const fourth = open(kg.url);
      sessions.push(fourth);
      expect(await fourth.acked).toBe(true);
    } finally {
      for (const s of sessions) s.socket.terminate();
      await kg.stop();
    }
  });
});
