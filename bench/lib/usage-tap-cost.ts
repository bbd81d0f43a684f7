// CPU the usage tap (src/usage/usage-tap.ts) spends per response, in this process: a figure that a
// busy machine sways far less than the proxy's CPU ratio. The bodies are bench/upstream.ts's (a
// JSON chat completion; an SSE stream of six events, `"usage":null` in the first four and the
// counts in the fifth) and a 40-chunk stream whose chunks carry no usage (issue 18's streams).
import { UsageTap } from '../../src/usage/usage-tap.ts';
import { median } from './stats.ts';

const event = (fields: object) => `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'llama-3-8b', ...fields })}\n\n`;
const USAGE = { prompt_tokens: 9, completion_tokens: 30, total_tokens: 39 };
const SSE = [
  ...['Hello!', ' Hello!', ' Hello!', ' Hello!'].map((content) => event({ choices: [{ index: 0, delta: { content }, finish_reason: null }], usage: null })),
  event({ choices: [], usage: USAGE }),
  'data: [DONE]\n\n',
].map((e) => Buffer.from(e));
const JSON_BODY = [Buffer.from(JSON.stringify({ id: 'chatcmpl-bench', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! '.repeat(30).trim() } }], usage: USAGE }))];
const LONG_STREAM = Array.from({ length: 40 }, () => Buffer.from(event({ choices: [{ index: 0, delta: { content: ' Hello!' }, finish_reason: null }] })));

/** Median over 5 runs of the tap's CPU ns per response. */
function nsPerResponse(chunks: Buffer[], responses: number): number {
  const runs: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < responses; i++) {
      const tap = new UsageTap();
      for (const chunk of chunks) tap.write(chunk);
    }
    const used = process.cpuUsage(t0);
    if (r > 0) runs.push(((used.user + used.system) * 1000) / responses);
  }
  return median(runs);
}

export function usageTapCost(): Record<string, number> {
  return {
    tap_ns_per_json_response: nsPerResponse(JSON_BODY, 50_000),
    tap_ns_per_sse_response: nsPerResponse(SSE, 20_000),
    tap_ns_per_40_chunk_stream: nsPerResponse(LONG_STREAM, 3_000),
  };
}
