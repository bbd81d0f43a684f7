// The API Keys page: every key of the project with its expiry, linked deployments and last use;
// creating one (its secret shown once) and deleting one (forcing the unlink of a linked key).
import { useState } from 'preact/hooks';
import { CopyButton } from '../components/copy-button.tsx';
import { Dialog } from '../components/dialog.tsx';
import { Empty } from '../components/empty.tsx';
import { Field, FormError, FormFooter, useSubmit } from '../components/form.tsx';
import { endOfDay, expiryLabel, lastUsedLabel } from '../lib/format.ts';
import { ApiError, messageOf, request } from '../lib/graphql.ts';
import { CreateApiKeyMutation, DeleteApiKeyMutation } from '../lib/operations.ts';
import type { ApiKeyRow, ProjectData } from '../lib/project-data.ts';
import { onLinkClick, paths } from '../lib/router.ts';

export function ApiKeys(props: { project: ProjectData; changed: (revision: number) => void }) {
  const { project } = props;
  const keys = project.apiKeys.edges.map((e) => e.node);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<ApiKeyRow | null>(null);

  return (
    <section>
      <div class="page-head">
        <h1>API Keys</h1>
        <button onClick={() => setCreating(true)}>Create API key</button>
      </div>
      {keys.length === 0 ? (
        <Empty title="No API keys yet">
          <p>Create a key, then link it to a deployment on the deployment's API Keys tab.</p>
          <button onClick={() => setCreating(true)}>Create API key</button>
        </Empty>
      ) : (
        <table class="keys">
          <thead>
            <tr>
              <th>Name</th>
              <th>Description</th>
              <th>Prefix</th>
              <th>Expires</th>
              <th>Deployments</th>
              <th>Last used</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id} data-key={key.name}>
                <td class="name">{key.name}</td>
                <td class="muted">{key.description || '—'}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td class={key.expired ? 'expired' : undefined}>{expiryLabel(key)}</td>
                <td class="linked">
                  {key.deployments.length === 0 ? (
                    <span class="muted">None</span>
                  ) : (
                    key.deployments.map((d) => {
                      const href = paths.deployment(project.slug, d.id, 'api-keys');
                      return (
                        <a class="chip" key={d.id} href={href} onClick={(e) => onLinkClick(e, href)}>
                          {d.name}
                        </a>
                      );
                    })
                  )}
                </td>
                <td>{lastUsedLabel(key.lastUsedAt)}</td>
                <td class="row-actions">
                  <button class="danger small" onClick={() => setDeleting(key)} aria-label={`Delete ${key.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && <CreateApiKey projectId={project.id} changed={props.changed} onClose={() => setCreating(false)} />}
      {deleting && <DeleteApiKey apiKey={deleting} changed={props.changed} onClose={() => setDeleting(null)} />}
    </section>
  );
}

function CreateApiKey(props: { projectId: string; changed: (revision: number) => void; onClose: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [expires, setExpires] = useState<'never' | 'date'>('never');
  const [date, setDate] = useState('');
  // Held only while this dialog is open; closing it forgets the secret for good.
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const { errors, busy, submit } = useSubmit(['name', 'description', 'expiresAt'], async () => {
    if (expires === 'date' && !date) throw new ApiError('Pick a date, or choose Never.', 'BAD_USER_INPUT', 'expiresAt');
    const input = {
      projectId: props.projectId,
      name: name.trim(),
      description: description.trim() || null,
      expiresAt: expires === 'date' ? endOfDay(date) : null,
    };
    const data = await request(CreateApiKeyMutation, { input });
    setCreated({ name: data.createApiKey.apiKey.name, secret: data.createApiKey.secret });
    props.changed(data.createApiKey.propagation.revision);
  });

  if (created) {
    return (
      <Dialog title={`API key "${created.name}" created`} onClose={props.onClose}>
        <p class="warning" role="alert">
          Copy this secret now. keygate keeps only its hash: it cannot show it again. If it is lost, create a new key.
        </p>
        <div class="secret">
          <code data-secret>{created.secret}</code>
          <CopyButton value={created.secret} />
        </div>
        <p class="muted">Send it in the X-API-Key header (or as Authorization: Bearer) to deployments this key is linked to.</p>
        <div class="actions">
          <button onClick={props.onClose}>I have copied it</button>
        </div>
      </Dialog>
    );
  }

  const minDate = new Date().toISOString().slice(0, 10);
  return (
    <Dialog title="Create API key" onClose={props.onClose}>
      <form onSubmit={submit}>
        <Field label="Name" error={errors.field.name} hint="4–63 characters: lowercase letters, digits, hyphens and dots.">
          <input name="name" value={name} required autofocus onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Description (optional)" error={errors.field.description}>
          <textarea name="description" rows={2} maxLength={300} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <fieldset class={`field${errors.field.expiresAt ? ' invalid' : ''}`}>
          <legend class="label">Expires</legend>
          <label class="inline">
            <input type="radio" name="expires" checked={expires === 'never'} onChange={() => setExpires('never')} /> Never
          </label>
          <label class="inline">
            <input type="radio" name="expires" checked={expires === 'date'} onChange={() => setExpires('date')} /> On
            <input
              type="date"
              name="expiresOn"
              min={minDate}
              value={date}
              aria-label="Expiry date"
              onFocus={() => setExpires('date')}
              onInput={(e) => setDate(e.currentTarget.value)}
            />
          </label>
          {errors.field.expiresAt && (
            <span class="error" role="alert">
              {errors.field.expiresAt}
            </span>
          )}
        </fieldset>
        <FormFooter error={errors.form} busy={busy} submit="Create" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

function DeleteApiKey(props: { apiKey: ApiKeyRow; changed: (revision: number) => void; onClose: () => void }) {
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
      setError(e instanceof ApiError && e.code === 'CONFLICT' ? `${e.message}. Reload the list and try again.` : messageOf(e));
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
