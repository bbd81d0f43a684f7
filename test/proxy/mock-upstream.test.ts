import { describe, expect, it } from 'vitest';
import { createMockUpstream } from '../../src/dev/mock-upstream.ts';
import { dispose, request } from './helpers.ts';

async function started() {
  const mock = createMockUpstream({ chunkDelayMs: 15 });
  const { port } = await mock.start();
  dispose(() => mock.stop());
  expect(mock.port).toBe(port);
  return port;
}

describe('mock upstream', () => {
  it('answers a chat completion with the model it was asked for', async () => {
    const port = await started();
    const res = await request(port, '/v1/chat/completions', { body: JSON.stringify({ model: 'm-1', messages: [] }) });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ object: 'chat.completion', model: 'm-1', choices: [{ message: { role: 'assistant', content: 'Hello from m-1.' } }] });
  });

  it('streams SSE chunks spaced apart, ending with [DONE]', async () => {
    const port = await started();
    const started_ = performance.now();
    const res = await request(port, '/v1/chat/completions', { body: JSON.stringify({ model: 'm-2', stream: true }) });
    expect(res.headers['content-type']).toBe('text/event-stream');
    const events = res.body.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'm-2')).toBe(true);
    expect(chunks.map((c) => c.choices[0].delta.content ?? '').join('')).toBe('Hello from m-2.');
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
    expect(performance.now() - started_).toBeGreaterThanOrEqual(15 * (events.length - 1));
  });

  it('lists models', async () => {
    const port = await started();
    const res = await request(port, '/v1/models');
    expect(res.json()).toMatchObject({ object: 'list', data: [{ id: 'mock-model', object: 'model' }] });
  });

  it('400 on a body that is not JSON, 404 elsewhere', async () => {
    const port = await started();
    const bad = await request(port, '/v1/chat/completions', { body: '{nope' });
    expect(bad.status).toBe(400);
    expect(bad.json().error.code).toBe('invalid_json');
    const missing = await request(port, '/v1/embeddings', { body: '{}' });
    expect(missing.status).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });
});
