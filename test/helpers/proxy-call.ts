// One chat completion through a test keygate's proxy (path form) with an API key: its status.
import type { TestKeygate } from './keygate.ts';

export async function statusThroughProxy(kg: TestKeygate, slug: string, deployment: string, secret: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${kg.running.proxy!.port}/${slug}/${deployment}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': secret },
    body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}
