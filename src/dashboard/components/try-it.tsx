// "Try it": how to call a deployment with curl and the OpenAI SDKs, endpoint and header filled in
// and the key left as a placeholder (the dashboard never has a key's secret after it is created).
// The snippets use the endpoint's path form: it resolves everywhere, where the host form
// (*.localhost, wildcard DNS) does not for every client.
import { useState } from 'preact/hooks';
import { CopyButton } from './copy-button.tsx';

const KEY = '$KEYGATE_API_KEY';

function snippets(endpointUrl: string, model: string): Record<string, string> {
  const base = `${endpointUrl}/v1`;
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] });
  return {
    curl: [
      `curl ${base}/chat/completions \\`,
      `  -H "X-API-Key: ${KEY}" \\`,
      `  -H "Content-Type: application/json" \\`,
      `  -d '${body.replaceAll("'", "'\\''")}'`,
    ].join('\n'),
    Python: [
      'import os',
      'from openai import OpenAI',
      '',
      `client = OpenAI(base_url=${JSON.stringify(base)}, api_key=os.environ["KEYGATE_API_KEY"])`,
      `reply = client.chat.completions.create(model=${JSON.stringify(model)}, messages=[{"role": "user", "content": "Hello"}])`,
      'print(reply.choices[0].message.content)',
    ].join('\n'),
    'Node.js': [
      "import OpenAI from 'openai';",
      '',
      `const client = new OpenAI({ baseURL: ${JSON.stringify(base)}, apiKey: process.env.KEYGATE_API_KEY });`,
      `const reply = await client.chat.completions.create({ model: ${JSON.stringify(model)}, messages: [{ role: 'user', content: 'Hello' }] });`,
      'console.log(reply.choices[0].message.content);',
    ].join('\n'),
  };
}

/** endpointUrl: the URL the snippets call (the path form). */
export function TryIt(props: { endpointUrl: string; model: string; authEnabled: boolean }) {
  const all = snippets(props.endpointUrl, props.model);
  const [tab, setTab] = useState('curl');
  const code = all[tab] ?? '';
  return (
    <div class="try-it">
      <div class="tabs small" role="tablist" aria-label="Try it with">
        {Object.keys(all).map((name) => (
          <button key={name} role="tab" aria-selected={tab === name} class={tab === name ? 'active' : undefined} onClick={() => setTab(name)}>
            {name}
          </button>
        ))}
      </div>
      {/* focusable, so the code can be scrolled sideways from the keyboard */}
      <pre tabIndex={0} aria-label={`${tab} example`}>
        <code>{code}</code>
      </pre>
      <div class="try-it-foot">
        <span class="muted">
          {props.authEnabled
            ? 'Set KEYGATE_API_KEY to the secret of a key linked to this deployment. The SDKs send it as Authorization: Bearer, which keygate accepts and never forwards.'
            : 'Authentication is off: any key, or none, gets through.'}
        </span>
        <CopyButton value={code} />
      </div>
    </div>
  );
}
