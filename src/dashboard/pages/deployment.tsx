// One deployment: an Overview tab (both endpoint forms, model and upstream with an edit dialog,
// "try it"), the API Keys tab (deployment-keys.tsx) and the Usage tab (its charts, live).
import { useState } from 'preact/hooks';
import { AuthBadge } from '../components/auth-badge.tsx';
import { Dialog } from '../components/dialog.tsx';
import { Empty } from '../components/empty.tsx';
import { Endpoints, pathFormUrl } from '../components/endpoint.tsx';
import { Field, FormError, FormFooter, useSubmit } from '../components/form.tsx';
import { TryIt } from '../components/try-it.tsx';
import { UsageSection } from '../components/lazy.tsx';
import { messageOf, request } from '../lib/graphql.ts';
import { DeleteDeploymentMutation, UpdateDeploymentMutation } from '../lib/operations.ts';
import type { DeploymentRow, ProjectData } from '../lib/project-data.ts';
import { type DeploymentTab, navigate, onLinkClick, paths } from '../lib/router.ts';
import { KeysTab } from './deployment-keys.tsx';
import { expiringWarning } from '../lib/expiry.ts';

interface Props {
  project: ProjectData;
  id: string;
  tab: DeploymentTab;
  version: number;
  changed: (revision: number) => void;
}

const TAB_LABEL: Record<DeploymentTab, string> = { overview: 'Overview', 'api-keys': 'API Keys', usage: 'Usage' };

export function Deployment(props: Props) {
  const { project, tab } = props;
  const deployment = project.deployments.edges.map((e) => e.node).find((d) => d.id === props.id);
  if (!deployment) {
    return (
      <Empty title="This deployment does not exist (any more)">
        <a href={paths.deployments(project.slug)} onClick={(e) => onLinkClick(e, paths.deployments(project.slug))}>
          All deployments
        </a>
      </Empty>
    );
  }
  const tabPath = (t: DeploymentTab) => paths.deployment(project.slug, deployment.id, t);
  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>
          {deployment.name} <AuthBadge enabled={deployment.authEnabled} keys={deployment.apiKeys} />
        </h1>
      </div>
      {expiringWarning(deployment.apiKeys) && (
        <p class="warning" data-expiring-warning>
          {expiringWarning(deployment.apiKeys)}
        </p>
      )}
      <Endpoints endpointUrl={deployment.endpointUrl} project={project.slug} deployment={deployment.name} />
      <nav class="tabs" aria-label="Deployment">
        {(['overview', 'api-keys', 'usage'] as const).map((t) => (
          <a key={t} href={tabPath(t)} class={tab === t ? 'active' : undefined} aria-current={tab === t ? 'page' : undefined} onClick={(e) => onLinkClick(e, tabPath(t))}>
            {TAB_LABEL[t]}
          </a>
        ))}
      </nav>
      {tab === 'overview' ? (
        <Overview project={project} deployment={deployment} changed={props.changed} />
      ) : tab === 'usage' ? (
        <UsageSection key={deployment.id} projectId={project.id} id={deployment.id} kind="Deployment" />
      ) : (
        <KeysTab key={deployment.id} project={project} deployment={deployment} version={props.version} changed={props.changed} />
      )}
    </section>
  );
}

function Overview(props: { project: ProjectData; deployment: DeploymentRow; changed: (revision: number) => void }) {
  const { deployment } = props;
  const [deleting, setDeleting] = useState(false);
  const [editing, setEditing] = useState(false);
  return (
    <div class="overview">
      <dl>
        <dt>Model</dt>
        <dd>{deployment.model}</dd>
        <dt>Upstream</dt>
        <dd>
          <code>{deployment.upstreamUrl}</code>
        </dd>
        <dt>Linked keys</dt>
        <dd>
          {deployment.apiKeys.length === 0
            ? 'None'
            : deployment.apiKeys.map((k, i) => (
                <span key={k.id}>
                  {i > 0 && ', '}
                  {k.name}
                  {k.expired && <span class="expired"> (expired)</span>}
                </span>
              ))}
        </dd>
      </dl>
      <button class="secondary" onClick={() => setEditing(true)}>
        Edit model and upstream
      </button>
      <h2>Try it</h2>
      <TryIt endpointUrl={pathFormUrl(deployment.endpointUrl, props.project.slug, deployment.name)} model={deployment.model} authEnabled={deployment.authEnabled} />
      <h2>Danger zone</h2>
      <button class="danger" onClick={() => setDeleting(true)}>
        Delete deployment
      </button>
      {editing && <EditDeployment deployment={deployment} changed={props.changed} onClose={() => setEditing(false)} />}
      {deleting && <DeleteDeployment project={props.project} deployment={deployment} changed={props.changed} onClose={() => setDeleting(false)} />}
    </div>
  );
}

function EditDeployment(props: { deployment: DeploymentRow; changed: (revision: number) => void; onClose: () => void }) {
  const [model, setModel] = useState(props.deployment.model);
  const [upstreamUrl, setUpstreamUrl] = useState(props.deployment.upstreamUrl);
  const { errors, busy, submit } = useSubmit(['model', 'upstreamUrl'], async () => {
    const data = await request(UpdateDeploymentMutation, { input: { id: props.deployment.id, model: model.trim(), upstreamUrl: upstreamUrl.trim() } });
    props.changed(data.updateDeployment.propagation.revision);
    props.onClose();
  });
  return (
    <Dialog title={`Edit deployment "${props.deployment.name}"`} onClose={props.onClose}>
      <form onSubmit={submit}>
        <Field label="Model" error={errors.field.model} hint="The model name clients send, e.g. llama-3-8b.">
          <input name="model" value={model} required autofocus onInput={(e) => setModel(e.currentTarget.value)} />
        </Field>
        <Field label="Upstream URL" error={errors.field.upstreamUrl} hint="The OpenAI-compatible server keygate forwards to.">
          <input name="upstreamUrl" type="url" value={upstreamUrl} required onInput={(e) => setUpstreamUrl(e.currentTarget.value)} />
        </Field>
        <FormFooter error={errors.form} busy={busy} submit="Save" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

function DeleteDeployment(props: { project: ProjectData; deployment: DeploymentRow; changed: (revision: number) => void; onClose: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    try {
      const data = await request(DeleteDeploymentMutation, { input: { id: props.deployment.id } });
      props.changed(data.deleteDeployment.propagation.revision);
      navigate(paths.deployments(props.project.slug));
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <Dialog title={`Delete deployment "${props.deployment.name}"?`} onClose={props.onClose}>
      <p>Its endpoint stops answering (404) from the next request on. Its keys stay, unlinked from it.</p>
      <FormError error={error} />
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose} autofocus>
          Cancel
        </button>
        <button type="button" class="danger" onClick={remove}>
          Delete deployment
        </button>
      </div>
    </Dialog>
  );
}
