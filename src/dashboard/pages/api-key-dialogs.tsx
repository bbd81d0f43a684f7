// The API Keys page's dialogs: create (then the secret, once), edit (name, description, expiry,
// rate limits)
// and delete (naming the deployments a linked key is unlinked from).
import { useState } from 'preact/hooks';
import { Dialog } from '../components/dialog.tsx';
import { type ExpiryChoice, ExpiryField } from '../components/expiry-field.tsx';
import { Field, FormError, FormFooter, useSubmit } from '../components/form.tsx';
import { SecretPanel, useSecretClose } from '../components/secret-dialog.tsx';
import { endOfDay, localDateValue } from '../lib/format.ts';
import { ApiError, messageOf, request } from '../lib/graphql.ts';
import { CreateApiKeyMutation, DeleteApiKeyMutation, UpdateApiKeyMutation } from '../lib/operations.ts';
import type { RateLimitInput } from '../generated/graphql.ts';
import type { ApiKeyRow } from '../lib/project-data.ts';
import { limitText, RATE_LIMIT_FIELDS, rateLimitInput, rateLimitUpdate } from '../lib/rate-limit.ts';

const KEY_FIELDS = ['name', 'description', 'expiresAt', ...RATE_LIMIT_FIELDS] as const;

/** The limit fields' texts (empty: no limit of that kind). */
interface LimitTexts {
  requests: string;
  tokens: string;
}

/** The expiry to send: null for never, the end of the chosen local day otherwise. */
function expiresAtOf(choice: ExpiryChoice): string | null {
  if (choice.mode === 'never') return null;
  if (!choice.date) throw new ApiError('Pick a date, or choose Never.', 'BAD_USER_INPUT', 'expiresAt');
  return endOfDay(choice.date);
}

/** The fields a key is created and edited with. */
function KeyFields(props: {
  name: string;
  setName: (v: string) => void;
  description: string;
  setDescription: (v: string) => void;
  expiry: ExpiryChoice;
  setExpiry: (v: ExpiryChoice) => void;
  limits: LimitTexts;
  setLimits: (v: LimitTexts) => void;
  errors: Record<string, string>;
}) {
  const { limits, setLimits } = props;
  return (
    <>
      <Field label="Name" error={props.errors.name} hint="4–63 characters: lowercase letters, digits, hyphens and dots.">
        <input name="name" value={props.name} required autofocus onInput={(e) => props.setName(e.currentTarget.value)} />
      </Field>
      <Field label="Description (optional)" error={props.errors.description}>
        <textarea name="description" rows={2} maxLength={300} value={props.description} onInput={(e) => props.setDescription(e.currentTarget.value)} />
      </Field>
      <ExpiryField value={props.expiry} onChange={props.setExpiry} error={props.errors.expiresAt} />
      <fieldset class="limits">
        <legend class="label">Rate limit (optional)</legend>
        <p class="hint">Across all the key's deployments. Leave a field empty for no limit of that kind.</p>
        <Field label="Requests per minute" error={props.errors['rateLimit.requestsPerMinute']}>
          <input name="requestsPerMinute" inputMode="numeric" autocomplete="off" value={limits.requests} onInput={(e) => setLimits({ ...limits, requests: e.currentTarget.value })} />
        </Field>
        <Field label="Tokens per minute" error={props.errors['rateLimit.tokensPerMinute']}>
          <input name="tokensPerMinute" inputMode="numeric" autocomplete="off" value={limits.tokens} onInput={(e) => setLimits({ ...limits, tokens: e.currentTarget.value })} />
        </Field>
      </fieldset>
    </>
  );
}

export function CreateApiKey(props: { projectId: string; changed: (revision: number) => void; onClose: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [expiry, setExpiry] = useState<ExpiryChoice>({ mode: 'never', date: '' });
  const [limits, setLimits] = useState<LimitTexts>({ requests: '', tokens: '' });
  // Held only while this dialog is open; closing it forgets the secret for good.
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const { errors, busy, submit } = useSubmit(KEY_FIELDS, async () => {
    const rateLimit = rateLimitInput(limits.requests, limits.tokens);
    const input = { projectId: props.projectId, name: name.trim(), description: description.trim() || null, expiresAt: expiresAtOf(expiry), rateLimit };
    const data = await request(CreateApiKeyMutation, { input });
    setCreated({ name: data.createApiKey.apiKey.name, secret: data.createApiKey.secret });
    props.changed(data.createApiKey.propagation.revision);
  });

  const secretClose = useSecretClose(props.onClose);
  // One dialog from the form to the secret, so focus returns to what opened it.
  return (
    <Dialog title={created ? `API key "${created.name}" created` : 'Create API key'} onClose={created ? secretClose.close : props.onClose}>
      {created ? (
        <SecretPanel secret={created.secret} state={secretClose} onClose={props.onClose} />
      ) : (
        <form onSubmit={submit}>
          <KeyFields {...{ name, setName, description, setDescription, expiry, setExpiry, limits, setLimits }} errors={errors.field} />
          <FormFooter error={errors.form} busy={busy} submit="Create" onCancel={props.onClose} />
        </form>
      )}
    </Dialog>
  );
}

export function EditApiKey(props: { apiKey: ApiKeyRow; changed: (revision: number) => void; onClose: () => void }) {
  const { apiKey } = props;
  const [name, setName] = useState(apiKey.name);
  const [description, setDescription] = useState(apiKey.description ?? '');
  const [expiry, setExpiry] = useState<ExpiryChoice>(
    apiKey.expiresAt && !apiKey.expired ? { mode: 'date', date: localDateValue(new Date(apiKey.expiresAt)) } : { mode: 'never', date: '' },
  );
  const [limits, setLimits] = useState<LimitTexts>({ requests: limitText(apiKey.rateLimit?.requestsPerMinute), tokens: limitText(apiKey.rateLimit?.tokensPerMinute) });
  const { errors, busy, submit } = useSubmit(KEY_FIELDS, async () => {
    const input: { id: string; name: string; description: string | null; expiresAt?: string | null; rateLimit?: RateLimitInput | null } = {
      id: apiKey.id,
      name: name.trim(),
      description: description.trim() || null,
    };
    // An unchanged date keeps the exact expiry (not the end of that day).
    const unchanged = apiKey.expiresAt && expiry.mode === 'date' && expiry.date === localDateValue(new Date(apiKey.expiresAt));
    if (!unchanged) input.expiresAt = expiresAtOf(expiry);
    // Only a change is sent; both fields cleared removes the limits (null).
    const rateLimit = rateLimitUpdate(apiKey.rateLimit, rateLimitInput(limits.requests, limits.tokens));
    if (rateLimit !== undefined) input.rateLimit = rateLimit;
    const data = await request(UpdateApiKeyMutation, { input });
    props.changed(data.updateApiKey.propagation.revision);
    props.onClose();
  });
  return (
    <Dialog title={`Edit API key "${apiKey.name}"`} onClose={props.onClose}>
      <form onSubmit={submit}>
        {apiKey.expired && <p class="warning">This key has expired. Pick a new date (or Never) to use it again.</p>}
        <KeyFields {...{ name, setName, description, setDescription, expiry, setExpiry, limits, setLimits }} errors={errors.field} />
        <FormFooter error={errors.form} busy={busy} submit="Save" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

export function DeleteApiKey(props: { apiKey: ApiKeyRow; changed: (revision: number) => void; onClose: () => void }) {
  const { apiKey } = props;
  const linked = apiKey.deployments;
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const remove = async () => {
    setBusy(true);
    try {
      const data = await request(DeleteApiKeyMutation, { input: { id: apiKey.id, force: linked.length > 0 } });
      props.changed(data.deleteApiKey.propagation.revision);
      props.onClose();
    } catch (e) {
      // Linked elsewhere since the page loaded: the page reloads live and shows the deployments.
      setError(e instanceof ApiError && e.code === 'CONFLICT' ? 'This key was linked to another deployment meanwhile. Close this, check the list, and try again.' : messageOf(e));
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Delete API key "${apiKey.name}"?`} onClose={props.onClose}>
      {linked.length === 0 ? (
        <p>Requests with this key will get 401. This cannot be undone.</p>
      ) : (
        <>
          <p>
            This key is linked to {linked.length === 1 ? 'a deployment' : `${linked.length} deployments`}. Deleting it unlinks it from them, and their
            requests with this key will get 401 from the next request on:
          </p>
          <ul class="affected">
            {linked.map((d) => (
              <li key={d.id}>{d.name}</li>
            ))}
          </ul>
        </>
      )}
      <FormError error={error} />
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose} autofocus>
          Cancel
        </button>
        <button type="button" class="danger" disabled={busy} onClick={remove}>
          {linked.length === 0 ? 'Delete key' : 'Unlink and delete'}
        </button>
      </div>
    </Dialog>
  );
}
