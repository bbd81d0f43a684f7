// A streaming chat completion through the openai SDK, read in the background: how many chunks came
// and the error it ended with (null: none yet, or a clean end).
import OpenAI from 'openai';

export interface Streaming {
  chunks: number;
  error: any;
  /** resolves when the stream ends, cleanly or not */
  done: Promise<void>;
}

/** Opens the stream and returns once its first chunk arrived. */
export async function openStream(baseURL: string, apiKey: string): Promise<Streaming> {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const s: Streaming = { chunks: 0, error: null, done: Promise.resolve() };
  s.done = (async () => {
    try {
      for await (const _ of stream) s.chunks++;
    } catch (error) {
      s.error = error;
    }
  })();
  while (s.chunks === 0) await new Promise((r) => setTimeout(r, 10));
  return s;
}
