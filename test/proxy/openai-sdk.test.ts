// The real openai SDK through the proxy (path routing) to the mock upstream, with the key in
// X-API-Key and as the SDK's apiKey (Authorization: Bearer), plain and streaming.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createMockUpstream } from '../../src/dev/mock-upstream.ts';
import { dispose, makeWorld, startProxy } from './helpers.ts';

async function setup() {
  const mock = createMockUpstream({ chunkDelayMs: 2 });
  const { port } = await mock.start();
  dispose(() => mock.stop());
  const world = makeWorld({ chat: `http://127.0.0.1:${port}` });
  const proxy = await startProxy(world.snapshot);
  return { world, baseURL: `http://127.0.0.1:${proxy.port}/acme/chat/v1` };
}

const ask = { model: 'llama-test', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('openai SDK through the proxy', () => {
  it.each([
    ['key in X-API-Key', (key: string) => ({ apiKey: 'not-a-keygate-key', defaultHeaders: { 'X-API-Key': key } })],
    ['key as apiKey', (key: string) => ({ apiKey: key })],
  ])('%s: completion and stream', async (_name, auth) => {
    const { world, baseURL } = await setup();
    const client = new OpenAI({ baseURL, maxRetries: 0, ...auth(world.linked.secret) });

    const completion = await client.chat.completions.create(ask);
    expect(completion.model).toBe('llama-test');
    expect(completion.choices[0]?.message.content).toBe('Hello from llama-test.');

    const stream = await client.chat.completions.create({ ...ask, stream: true });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('Hello from llama-test.');
    expect(chunks).toBeGreaterThan(3);

    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['mock-model']);
  });

  it('surfaces the proxy refusals as SDK authentication errors with their codes', async () => {
    const { world, baseURL } = await setup();
    const wrong = new OpenAI({ baseURL, maxRetries: 0, apiKey: world.unlinked.secret });
    await expect(wrong.chat.completions.create(ask)).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    const foreign = new OpenAI({ baseURL, maxRetries: 0, apiKey: 'sk-not-keygate' });
    await expect(foreign.chat.completions.create(ask)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
