// Rate limits on one proxy (`keygate start` with Redis): a burst against requestsPerMinute, tokens
// per minute, the headers, the openai SDK's retries, and the inputs the API refuses. The window is
// shortened with KEYGATE_RATELIMIT_WINDOW_MS (test-only) so room comes back within the test.
import OpenAI, { RateLimitError } from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDeployment, createProject } from '../helpers/fixtures.ts';
import { startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { createTestDatabase, REDIS_URL, type TestDatabase, uniqueName } from '../helpers/services.ts';
import { settle } from '../hardening/proxy-helpers.ts';
import { call, type CountingUpstream, rateLimitUsage, sleep, startCountingUpstream } from './helpers.ts';

const WINDOW_MS = 6000;
let kg: TestKeygate;
let upstream: CountingUpstream;
let db: TestDatabase;

beforeAll(async () => {
  upstream = await startCountingUpstream(300);
  db = await createTestDatabase();
  kg = await startTestKeygate({
    // The proxy acks over Redis: on a loaded machine it may need more than the helper's default
    // second to confirm, and each test calls it right after its key is linked.
    env: {
      DATABASE_URL: db.url,
      REDIS_URL,
      KEYGATE_REDIS_PREFIX: `${uniqueName('kgrl')}:`,
      KEYGATE_RATELIMIT_WINDOW_MS: String(WINDOW_MS),
      KEYGATE_PROPAGATION_TIMEOUT_MS: '10000',
      LOG_LEVEL: 'warn',
    },
  });
});
afterAll(async () => {
  await kg?.stop();
  await upstream?.stop();
  await db?.drop();
});

async function limitedKey(rateLimit: { requestsPerMinute?: number; tokensPerMinute?: number }) {
  const project = await createProject(kg);
  const r = await kg.gql(
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id rateLimit { requestsPerMinute tokensPerMinute } } } }`,
    { input: { projectId: project.id, name: 'limited', rateLimit } },
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  const { secret, apiKey } = r.data.createApiKey as { secret: string; apiKey: { id: string; rateLimit: unknown } };
  await createDeployment(kg, project.id, 'chat', { upstreamUrl: upstream.url, authEnabled: true, apiKeyIds: [apiKey.id] });
  return { slug: project.slug as string, secret, id: apiKey.id, rateLimit: apiKey.rateLimit };
}

const port = () => kg.running.proxy!.port;

it('requestsPerMinute 30: of a burst of 100, 30 pass, the rest get 429 with Retry-After, the upstream sees only the passed; later room comes back', async () => {
  const key = await limitedKey({ requestsPerMinute: 30 });
  expect(key.rateLimit).toEqual({ requestsPerMinute: 30, tokensPerMinute: null });
  const before = upstream.seen;
  const answers = await Promise.all(Array.from({ length: 100 }, () => call(port(), key.slug, key.secret)));
  const passed = answers.filter((a) => a.status === 200);
  const limited = answers.filter((a) => a.status === 429);
  expect(passed.length + limited.length).toBe(100);
  expect(passed.length).toBeGreaterThanOrEqual(27);
  expect(passed.length).toBeLessThanOrEqual(33);
  expect(upstream.seen - before).toBe(passed.length);
  for (const a of limited) {
    expect(JSON.parse(a.body)).toEqual({ error: { message: expect.any(String), type: 'requests', code: 'rate_limit_exceeded' } });
    const retryAfter = Number(a.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(a.headers.get('x-ratelimit-limit-requests')).toBe('30');
    expect(a.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(a.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
    expect(a.headers.get('x-ratelimit-limit-tokens')).toBeNull();
  }
  // Headers on the 200s too.
  for (const a of passed) {
    expect(a.headers.get('x-ratelimit-limit-requests')).toBe('30');
    expect(Number(a.headers.get('x-ratelimit-remaining-requests'))).toBeLessThan(30);
    expect(a.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
  }
  // The key's use, as the API reads it from the shared counts: once the proxy has pushed them
  // (about every second; a sync may be late on a loaded machine), well before they leave the 6 s window.
  const u = await settle(() => rateLimitUsage(kg, key.id), (v) => v.requests === passed.length && v.tokens === passed.length * 300, 4000);
  expect(u.requests).toBe(passed.length);
  expect(u.tokens).toBe(passed.length * 300);
  expect(Date.parse(u.resetsAt)).toBeGreaterThan(Date.now());

  // After Retry-After the window has room again.
  const wait = Math.max(...limited.map((a) => Number(a.headers.get('retry-after'))));
  await sleep(wait * 1000 + 200);
  const again = await call(port(), key.slug, key.secret);
  expect(again.status).toBe(200);
});

it('tokensPerMinute 1000 at 300 tokens a response: the 4th request completes, the 5th gets 429 type tokens', async () => {
  const key = await limitedKey({ tokensPerMinute: 1000 });
  const statuses: number[] = [];
  let last: Awaited<ReturnType<typeof call>> | null = null;
  for (let i = 0; i < 5; i++) {
    last = await call(port(), key.slug, key.secret);
    statuses.push(last.status);
    // The tokens are counted when the upstream's response has ended, just after the client has it.
    await sleep(50);
  }
  expect(statuses).toEqual([200, 200, 200, 200, 429]);
  expect(JSON.parse(last!.body).error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded' });
  expect(last!.headers.get('x-ratelimit-limit-tokens')).toBe('1000');
  expect(last!.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
  expect(last!.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+s$/);
  expect(last!.headers.get('x-ratelimit-limit-requests')).toBeNull();
});

it('the openai SDK with maxRetries 2 honours Retry-After and ends with RateLimitError', async () => {
  const key = await limitedKey({ requestsPerMinute: 2 });
  const attempts: { at: number; status: number; retryAfter: number }[] = [];
  const before = upstream.seen;
  // Before each of the SDK's attempts, whatever room the window has is used up, so every attempt
  // meets the limit. A refusal counts as "full" only when it holds a moment later: a request waits
  // for a late grant renewal at most the grant's lifetime, so on a very loaded machine a 429 may
  // still come while the window has room (the renewal brings it back).
  const fill = async () => {
    for (let i = 0; i < 10; i++) {
      if ((await call(port(), key.slug, key.secret)).status === 200) continue;
      await sleep(150);
      if ((await call(port(), key.slug, key.secret)).status !== 200) return;
    }
  };
  const client = new OpenAI({
    apiKey: key.secret,
    baseURL: `http://127.0.0.1:${port()}/${key.slug}/chat/v1`,
    maxRetries: 2,
    fetch: async (url, init) => {
      await fill();
      const seenBefore = upstream.seen;
      const res = await fetch(url, init);
      attempts.push({ at: Date.now(), status: res.status, retryAfter: Number(res.headers.get('retry-after')) });
      expect(upstream.seen).toBe(seenBefore);
      return res;
    },
  });
  const error = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RateLimitError);
  expect(attempts.map((a) => a.status)).toEqual([429, 429, 429]);
  for (let i = 1; i < attempts.length; i++) {
    expect(attempts[i]!.at - attempts[i - 1]!.at).toBeGreaterThanOrEqual(attempts[i - 1]!.retryAfter * 1000 - 50);
  }
  // Only the fill's passing requests reached the upstream (at most the limit per window).
  expect(upstream.seen - before).toBeLessThanOrEqual(2 * 3);
});

it('refuses limits of 0, negative or above 10,000,000 at the field', async () => {
  const project = await createProject(kg);
  const bad = [
    { requestsPerMinute: 0 },
    { requestsPerMinute: -5 },
    { tokensPerMinute: 10_000_001 },
  ];
  for (const rateLimit of bad) {
    const r = await kg.gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`, {
      input: { projectId: project.id, name: 'bad-limit', rateLimit },
    });
    const field = `rateLimit.${Object.keys(rateLimit)[0]}`;
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  }
  const ok = await kg.gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }`, {
    input: { projectId: project.id, name: 'good-limit', rateLimit: { requestsPerMinute: 10_000_000 } },
  });
  const id = (ok.data?.createApiKey as { apiKey: { id: string } }).apiKey.id;
  const r = await kg.gql(`mutation($input: UpdateApiKeyInput!) { updateApiKey(input: $input) { apiKey { id } } }`, {
    input: { id, rateLimit: { requestsPerMinute: 5, tokensPerMinute: 0 } },
  });
  expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rateLimit.tokensPerMinute' });
});
