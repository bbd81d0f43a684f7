// Sign-in with an access token: checked against the API before it is kept for the session.
import { useState } from 'preact/hooks';
import { Field } from '../components/form.tsx';
import { ApiError, messageOf, request } from '../lib/graphql.ts';
import type { DashboardViewerQuery } from '../generated/graphql.ts';
import { ViewerQuery } from '../lib/operations.ts';
import { useTitle } from '../lib/page.ts';

export function SignIn(props: { onSignedIn: (token: string, viewer: DashboardViewerQuery['viewer']) => void; notice?: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useTitle('Sign in');

  const submit = async (event: Event) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) return setError('Paste an access token.');
    setBusy(true);
    try {
      const { viewer } = await request(ViewerQuery, {}, value);
      props.onSignedIn(value, viewer);
    } catch (e) {
      setError(e instanceof ApiError && e.code === 'UNAUTHENTICATED' ? 'keygate does not accept this token: it is unknown, deleted or expired.' : messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <form class="card" onSubmit={submit}>
        <h1>keygate</h1>
        <p class="muted">API keys in front of your model endpoints.</p>
        {props.notice && <p class="notice">{props.notice}</p>}
        <Field
          label="Access token"
          error={error}
          hint="An admin token (keygate start writes one to .keygate/admin-token) or a project token. It is kept in this browser until you sign out."
        >
          <input
            type="password"
            name="token"
            autocomplete="off"
            spellcheck={false}
            autofocus
            value={token}
            onInput={(e) => {
              setToken(e.currentTarget.value);
              setError(null);
            }}
          />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
