// Issue 15, finding 2: one token opened 10,000 subscriptions with distinct aliases (each its own
// execution of every event) and one updateApiKey then held the process ~10 s, /-/healthz included.
// Now a token runs at most KEYGATE_WS_MAX_SUBSCRIPTIONS_PER_TOKEN (1,000) operations across all its
// connections on a control plane (the excess: TOO_MANY_SUBSCRIPTIONS), and an event's executions
// run in slices that yield to the event loop. Here: 11 connections of one token ask for 1,100
// subscriptions with distinct aliases; 100 are refused, and while one change reaches the other
// 1,000, the proxy in the same process keeps answering /-/healthz within 250 ms at the 95th
// percentile.
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/services.ts';
import { ADMIN, gql, p95, sampleHealthz, startKeygateProcess } from './keygate-process.ts';

// Not the 100 ms of the query-cost attack: measured 104-152 ms p95 (max 150-197 ms) at a load of
// ~12 on the shared 2-core machine with slices of 8 executions; 609 ms before the slicing.
const P95_BOUND_MS = 250;
const CONNECTIONS = 11;
const PER_CONNECTION = 100;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function until(check: () => boolean, what: string, ms = 60_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function connect(url: string, token: string): Promise<{ socket: WebSocket; messages: any[] }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: any[] = [];
  cleanups.push(async () => socket.terminate());
  return new Promise((resolve, reject) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      messages.push(message);
      if (message.type === 'connection_ack') resolve({ socket, messages });
    });
    socket.on('close', (code) => reject(new Error(`closed ${code}`)));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  });
}

describe('one token subscribing many times over many connections', () => {
  it('is refused above 1,000 subscriptions, and one change reaching 1,000 distinct selections leaves /-/healthz responsive', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const { graphql, proxy } = await startKeygateProcess(db, cleanups);
    const project = (await gql(graphql, ADMIN, { query: 'mutation { createProject(input: { slug: "fan", name: "fan" }) { project { id } } }' })).data.createProject.project;
    const key = (await gql(graphql, ADMIN, { query: 'mutation($p: ID!) { createApiKey(input: { projectId: $p, name: "fan-key" }) { apiKey { id } } }', variables: { p: project.id } })).data.createApiKey.apiKey;
    const token: string = (await gql(graphql, ADMIN, { query: 'mutation($p: ID!) { createAccessToken(input: { name: "fan", projectId: $p }) { token } }', variables: { p: project.id } })).data.createAccessToken.token;

    const sessions = await Promise.all(Array.from({ length: CONNECTIONS }, () => connect(graphql, token)));
    sessions.forEach(({ socket }, c) => {
      for (let i = 0; i < PER_CONNECTION; i++) {
        const alias = `a${c}_${i}`;
        const query = `subscription($p: ID!) { ${alias}: projectEvents(projectId: $p) { revision apiKey { name } } }`;
        socket.send(JSON.stringify({ id: alias, type: 'subscribe', payload: { query, variables: { p: project.id } } }));
      }
    });
    const all = () => sessions.flatMap((s) => s.messages);
    await until(() => all().filter((m) => m.type === 'error').length >= 100, '100 refusals');
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // any further answers to the subscribes arrive
    const refusals = all().filter((m) => m.type === 'error');
    expect(refusals).toHaveLength(100);
    for (const refusal of refusals) expect(refusal.payload[0].extensions).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS', maxSubscriptionsPerToken: 1000 });

    const quiet = await sampleHealthz(proxy, 50);
    const renamed = gql(graphql, token, { query: 'mutation($id: ID!) { updateApiKey(input: { id: $id, name: "renamed" }) { apiKey { name } } }', variables: { id: key.id } });
    const delivered = () => all().filter((m) => m.type === 'next').length >= 1_000;
    const during = await sampleHealthz(proxy, 10_000, delivered);
    expect((await renamed).errors).toBeUndefined();
    await until(delivered, '1,000 results');
    expect(all().filter((m) => m.type === 'next')).toHaveLength(1_000);
    for (const m of all().filter((m) => m.type === 'next')) expect(m.payload.data[m.id].apiKey.name).toBe('renamed');
    console.log(`healthz p95: ${p95(quiet).toFixed(1)} ms quiet, ${p95(during).toFixed(1)} ms (max ${Math.max(...during).toFixed(1)}) during the fan-out (${during.length} samples)`);
    expect(p95(during)).toBeLessThanOrEqual(P95_BOUND_MS);
  }, 180_000);
});
