import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canTapBody, UsageTap } from '../../src/usage/usage-tap.ts';

function read(chunks: (string | Buffer)[]) {
  const tap = new UsageTap();
  for (const c of chunks) tap.write(typeof c === 'string' ? Buffer.from(c) : c);
  return tap.usage;
}

/** The body cut at the given offsets. */
function splitAt(body: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(body.subarray(last, p));
    last = p;
  }
  out.push(body.subarray(last));
  return out;
}

const chat = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: 'the "usage" word and \\"usage\\": {"prompt_tokens": 999}' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46, prompt_tokens_details: { cached_tokens: 0 } },
});

const sse = [
  `data: ${JSON.stringify({ id: 'c', choices: [{ delta: { role: 'assistant', content: '' } }], usage: null })}\n\n`,
  `data: ${JSON.stringify({ id: 'c', choices: [{ delta: { content: 'usage: {"prompt_tokens": 5}' } }], usage: null })}\n\n`,
  `data: ${JSON.stringify({ id: 'c', choices: [{ delta: {}, finish_reason: 'stop' }], usage: null })}\n\n`,
  `data: ${JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: 7, completion_tokens: 21, total_tokens: 28 } })}\n\n`,
  'data: [DONE]\n\n',
].join('');

describe('UsageTap', () => {
  it('reads a chat completion body, ignoring "usage" inside strings', () => {
    expect(read([chat])).toEqual({ promptTokens: 12, completionTokens: 34 });
  });

  it('reads the usage event of an SSE stream (stream_options.include_usage)', () => {
    expect(read([sse])).toEqual({ promptTokens: 7, completionTokens: 21 });
  });

  it('reads embeddings (prompt tokens only) and the Responses API names', () => {
    expect(read([JSON.stringify({ object: 'list', data: [], usage: { prompt_tokens: 8, total_tokens: 8 } })])).toEqual({ promptTokens: 8, completionTokens: 0 });
    expect(read([JSON.stringify({ usage: { input_tokens: 3, output_tokens: 4 } })])).toEqual({ promptTokens: 3, completionTokens: 4 });
  });

  it('keeps the last usage of a stream that repeats running totals', () => {
    const events = [1, 2, 3].map((n) => `data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":${n}}}\n\n`);
    expect(read(events)).toEqual({ promptTokens: 5, completionTokens: 3 });
  });

  it('finds nothing in a stream without usage, in malformed JSON or a truncated object, and never throws', () => {
    expect(read(['data: {"choices":[]}\n\n', 'data: [DONE]\n\n'])).toBeNull();
    expect(read(['{"usage": {"prompt_tokens": 1, "completion_tokens": ]}'])).toBeNull();
    expect(read(['{"usage": {"prompt_tokens": 1, "completion'])).toBeNull();
    expect(read(['{"usage": "none"}', '{"usage": [1,2]}', '{"usage": {"prompt_tokens": "9"}}'])).toBeNull();
    expect(read([Buffer.from([0xff, 0xfe, 0x22, 0x75, 0x73, 0x61, 0x67, 0x65, 0x22, 0x3a, 0x7b, 0xff, 0x7d])])).toBeNull();
  });

  it('ignores negative, fractional or huge counts', () => {
    expect(read(['{"usage":{"prompt_tokens":-1,"completion_tokens":2.5}}'])).toEqual({ promptTokens: 0, completionTokens: 0 });
    expect(read(['{"usage":{"prompt_tokens":1e300,"completion_tokens":4}}'])).toEqual({ promptTokens: 0, completionTokens: 4 });
  });

  it('gives up on an object larger than its bound, then finds a later one', () => {
    const huge = `{"usage":{"prompt_tokens":1,"pad":"${'x'.repeat(5000)}"}}`;
    expect(read([huge])).toBeNull();
    expect(read([huge, 'data: {"usage":{"prompt_tokens":2,"completion_tokens":3}}\n\n'])).toEqual({ promptTokens: 2, completionTokens: 3 });
  });

  it('finds the same usage however the body is cut into chunks', () => {
    for (const body of [Buffer.from(chat), Buffer.from(sse)]) {
      const whole = read([body]);
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
          expect(read(splitAt(body, cuts))).toEqual(whole);
        }),
        { numRuns: 300 },
      );
      // and one byte at a time
      expect(read([...body].map((b) => Buffer.from([b])))).toEqual(whole);
    }
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const tap = new UsageTap();
        for (const c of chunks) tap.write(Buffer.from(c));
      }),
    );
  });

  it('holds no more than its bound while scanning a 10 MB body', () => {
    const tap = new UsageTap();
    const chunk = Buffer.alloc(64 * 1024, '{"usage":{"a":"');
    for (let i = 0; i < 160; i++) tap.write(chunk);
    const held = (tap as unknown as { size: number }).size;
    expect(held).toBeLessThanOrEqual(2048);
  });
});

describe('canTapBody', () => {
  it('reads JSON and event streams, never compressed bodies', () => {
    expect(canTapBody('application/json; charset=utf-8', undefined)).toBe(true);
    expect(canTapBody('text/event-stream', 'identity')).toBe(true);
    expect(canTapBody(undefined, undefined)).toBe(true);
    expect(canTapBody('application/json', 'gzip')).toBe(false);
    expect(canTapBody('application/json', 'br')).toBe(false);
    expect(canTapBody('application/octet-stream', undefined)).toBe(false);
    expect(canTapBody('audio/mpeg', undefined)).toBe(false);
  });
});
