// Metering reads responses as they pass and must not change them: the bytes a client receives
// through the proxy (metering on, the default) hash the same as the upstream's, for a JSON body,
// an SSE stream with a split usage event and a 10 MB body, whose usage (at its very end) is still
// counted.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDeployment, createProject } from '../helpers/fixtures.ts';
import { useKeygate } from '../helpers/keygate.ts';
import { sleep } from '../subscriptions/helpers.ts';
import { bigJsonBody, startUsageUpstream, type UsageUpstream } from './helpers.ts';

const h = useKeygate();
let upstream: UsageUpstream;

beforeAll(async () => {
  upstream = await startUsageUpstream();
});
afterAll(async () => {
  await upstream?.stop();
});

/** The raw body bytes of a POST (no decoding by the client), hashed. */
function fetchHash(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sha256: hash.digest('hex'), bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

it('clients receive the upstream bytes unchanged with metering on: JSON, SSE, 10 MB', async () => {
  const { kg } = h;
  const project = await createProject(kg);
  const deployment = await createDeployment(kg, project.id, 'open', { upstreamUrl: upstream.url });
  const proxied = `http://127.0.0.1:${kg.running.proxy!.port}/${project.slug}/open`;
  const chat = (stream: boolean) => JSON.stringify({ model: 'm', stream, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'tokens 6 7' }] });

  const cases: [string, string, Record<string, string>][] = [
    ['/v1/chat/completions', chat(false), {}],
    ['/v1/chat/completions', chat(true), { 'x-test-split-usage': '1' }],
    ['/v1/big', '{}', {}],
  ];
  for (const [path, body, headers] of cases) {
    const direct = await fetchHash(`${upstream.url}${path}`, body, headers);
    const through = await fetchHash(`${proxied}${path}`, body, headers);
    expect(through).toEqual(direct);
    expect(direct.status).toBe(200);
  }
  expect((await fetchHash(`${proxied}/v1/big`, '{}')).bytes).toBe(bigJsonBody().length);

  // Counted: 4 requests through the proxy; tokens 6/7 twice and the big body's 70/80 twice.
  const read = async () =>
    (
      (await kg.gql(`query($id: ID!, $from: DateTime!) { node(id: $id) { ... on Deployment { usage(from: $from) { total { requests promptTokens completionTokens } } } } }`, {
        id: deployment.id,
        from: new Date(Date.now() - 3_600_000).toISOString(),
      })).data?.node as { usage: { total: unknown } }
    ).usage.total;
  const expected = { requests: 4, promptTokens: 6 + 6 + 70 + 70, completionTokens: 7 + 7 + 80 + 80 };
  const end = Date.now() + 10_000;
  let total = await read();
  while (Date.now() < end && JSON.stringify(total) !== JSON.stringify(expected)) {
    await sleep(250);
    total = await read();
  }
  expect(total).toEqual(expected);
}, 60_000);
