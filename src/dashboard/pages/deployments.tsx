// The Deployments page: each deployment's endpoint, auth status and linked keys; creating one.
import { useState } from 'preact/hooks';
import { CopyButton } from '../components/copy-button.tsx';
import { Dialog } from '../components/dialog.tsx';
import { Empty } from '../components/empty.tsx';
import { Field, FormFooter, useSubmit } from '../components/form.tsx';
import { AuthBadge } from '../components/auth-badge.tsx';
import { pathFormUrl } from '../components/endpoint.tsx';
import { request } from '../lib/graphql.ts';
import { CreateDeploymentMutation } from '../lib/operations.ts';
import type { ProjectData } from '../lib/project-data.ts';
import { navigate, onLinkClick, paths } from '../lib/router.ts';
import { expiringWarning, expiryClass, expiryText } from '../lib/expiry.ts';
import { useNow } from '../lib/format.ts';

export function Deployments(props: { project: ProjectData; changed: (revision: number) => void }) {
  const { project } = props;
  const deployments = project.deployments.edges.map((e) => e.node);
  const [creating, setCreating] = useState(false);
  const now = useNow();

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Deployments</h1>
        <button onClick={() => setCreating(true)}>Create deployment</button>
      </div>
      {deployments.length === 0 ? (
        <Empty title="No deployments yet">
          <p>A deployment puts keygate's proxy in front of an OpenAI-compatible model server.</p>
          <button onClick={() => setCreating(true)}>Create deployment</button>
        </Empty>
      ) : (
        <table class="deployments cards">
          <thead>
            <tr>
              <th>Name</th>
              <th>Model</th>
              <th>Endpoint URL</th>
              <th>Authentication</th>
              <th>Linked keys</th>
            </tr>
          </thead>
          <tbody>
            {deployments.map((d) => {
              const href = paths.deployment(project.slug, d.id);
              return (
                <tr key={d.id} data-deployment={d.name}>
                  <td class="name">
                    <a href={href} onClick={(e) => onLinkClick(e, href)}>
                      {d.name}
                    </a>
                  </td>
                  <td data-label="Model">{d.model}</td>
                  <td class="endpoint" data-label="Endpoint URL">
                    <code>{d.endpointUrl}</code> <CopyButton value={d.endpointUrl} label="Copy" />
                    <span class="path-form">
                      <code>{pathFormUrl(d.endpointUrl, project.slug, d.name)}</code> <CopyButton value={pathFormUrl(d.endpointUrl, project.slug, d.name)} label="Copy path form" />
                    </span>
                  </td>
                  <td data-label="Authentication">
                    <AuthBadge enabled={d.authEnabled} keys={d.apiKeys} />
                  </td>
                  <td class="linked" data-label="Linked keys">
                    {d.apiKeys.length === 0 ? (
                      <span class="muted">None</span>
                    ) : (
                      d.apiKeys.map((k) => (
                        <span class={`chip${expiryClass(k) ? ` ${expiryClass(k)}` : ''}`} key={k.id} title={k.expired ? 'expired' : undefined}>
                          {k.name}
                          {k.expired && ' (expired)'}
                          {!k.expired && k.expiresSoon && ` (${expiryText(k, now)})`}
                        </span>
                      ))
                    )}
                    {expiringWarning(d.apiKeys, now) && (
                      <p class="warning small" data-expiring-warning>
                        {expiringWarning(d.apiKeys, now)}
                      </p>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {creating && <CreateDeployment project={project} changed={props.changed} onClose={() => setCreating(false)} />}
    </section>
  );
}

function CreateDeployment(props: { project: ProjectData; changed: (revision: number) => void; onClose: () => void }) {
  const [name, setName] = useState('');
  const [model, setModel] = useState('');
  const [upstreamUrl, setUpstreamUrl] = useState('');
  const [authEnabled, setAuthEnabled] = useState(true);
  const { errors, busy, submit } = useSubmit(['name', 'model', 'upstreamUrl'], async () => {
    const input = { projectId: props.project.id, name: name.trim(), model: model.trim(), upstreamUrl: upstreamUrl.trim(), authEnabled };
    const data = await request(CreateDeploymentMutation, { input });
    props.changed(data.createDeployment.propagation.revision);
    navigate(paths.deployment(props.project.slug, data.createDeployment.deployment.id, 'api-keys'));
  });

  return (
    <Dialog title="Create deployment" onClose={props.onClose}>
      <form onSubmit={submit}>
        <Field label="Name" error={errors.field.name} hint="Lowercase letters, digits and hyphens; part of the endpoint's host name.">
          <input name="name" value={name} required autofocus onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field label="Model" error={errors.field.model} hint="The model name clients send, e.g. llama-3-8b.">
          <input name="model" value={model} required onInput={(e) => setModel(e.currentTarget.value)} />
        </Field>
        <Field label="Upstream URL" error={errors.field.upstreamUrl} hint="The OpenAI-compatible server keygate forwards to, e.g. http://127.0.0.1:9000.">
          <input name="upstreamUrl" type="url" value={upstreamUrl} required onInput={(e) => setUpstreamUrl(e.currentTarget.value)} />
        </Field>
        <label class="inline">
          <input type="checkbox" name="authEnabled" checked={authEnabled} onChange={(e) => setAuthEnabled(e.currentTarget.checked)} /> Enable API key
          authentication
        </label>
        <p class="hint">
          {authEnabled
            ? 'Requests get 401 until you link keys on the next page.'
            : 'Without it, anyone who can reach the endpoint can call the model.'}
        </p>
        <FormFooter error={errors.form} busy={busy} submit="Create" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
