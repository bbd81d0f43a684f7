// One deployment: an Overview tab (endpoint, upstream, "try it") and the API Keys tab, where the
// authentication toggle and the linked set are edited together and saved at once.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { AuthBadge } from '../components/auth-badge.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { Dialog } from '../components/dialog.tsx';
import { Empty } from '../components/empty.tsx';
import { FormError } from '../components/form.tsx';
import { TryIt } from '../components/try-it.tsx';
import { expiryLabel, propagationLabel } from '../lib/format.ts';
import { messageOf, request } from '../lib/graphql.ts';
import { DeleteDeploymentMutation, SetDeploymentAuthMutation } from '../lib/operations.ts';
import type { ApiKeyRow, DeploymentRow, ProjectData } from '../lib/project-data.ts';
import { navigate, onLinkClick, paths } from '../lib/router.ts';

interface Props {
  project: ProjectData;
  id: string;
  tab: 'overview' | 'api-keys';
  changed: (revision: number) => void;
}

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
  const tabPath = (t: 'overview' | 'api-keys') => paths.deployment(project.slug, deployment.id, t);
  return (
    <section>
      <div class="page-head">
        <h1>
          {deployment.name} <AuthBadge enabled={deployment.authEnabled} linked={deployment.apiKeys.length} />
        </h1>
      </div>
      <p class="endpoint">
        <code>{deployment.endpointUrl}</code> <CopyButton value={deployment.endpointUrl} label="Copy endpoint" />
      </p>
      <nav class="tabs" aria-label="Deployment">
        {(['overview', 'api-keys'] as const).map((t) => (
          <a key={t} href={tabPath(t)} class={tab === t ? 'active' : undefined} aria-current={tab === t ? 'page' : undefined} onClick={(e) => onLinkClick(e, tabPath(t))}>
            {t === 'overview' ? 'Overview' : 'API Keys'}
          </a>
        ))}
      </nav>
      {tab === 'overview' ? (
        <Overview project={project} deployment={deployment} changed={props.changed} />
      ) : (
        <KeysTab key={deployment.id} project={project} deployment={deployment} changed={props.changed} />
      )}
    </section>
  );
}

function Overview(props: { project: ProjectData; deployment: DeploymentRow; changed: (revision: number) => void }) {
  const { deployment } = props;
  const [deleting, setDeleting] = useState(false);
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
        <dd>{deployment.apiKeys.length === 0 ? 'None' : deployment.apiKeys.map((k) => k.name).join(', ')}</dd>
      </dl>
      <h2>Try it</h2>
      <TryIt endpointUrl={deployment.endpointUrl} model={deployment.model} authEnabled={deployment.authEnabled} />
      <h2>Danger zone</h2>
      <button class="danger" onClick={() => setDeleting(true)}>
        Delete deployment
      </button>
      {deleting && <DeleteDeployment project={props.project} deployment={deployment} changed={props.changed} onClose={() => setDeleting(false)} />}
    </div>
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

/** What saving a state would do that deserves a second look; null when nothing. */
function riskOf(enabled: boolean, selected: number): string | null {
  if (!enabled) return 'Authentication is off: anyone who can reach the endpoint can call the model, with or without a key.';
  if (selected === 0) return 'No key is selected: every request to this deployment will get 401, so everyone is locked out.';
  return null;
}

const sameSet = (a: Set<string>, b: string[]) => a.size === b.length && b.every((id) => a.has(id));

/** A deployment's authentication as saved: the toggle and the linked keys. */
interface SavedState {
  enabled: boolean;
  ids: string[];
}
const sameState = (a: SavedState, b: SavedState) => a.enabled === b.enabled && sameSet(new Set(a.ids), b.ids);

function KeysTab(props: { project: ProjectData; deployment: DeploymentRow; changed: (revision: number) => void }) {
  const { project, deployment } = props;
  const keys = project.apiKeys.edges.map((e) => e.node);
  const saved = useMemo(() => ({ enabled: deployment.authEnabled, ids: deployment.apiKeys.map((k) => k.id) }), [deployment]);
  const [enabled, setEnabled] = useState(deployment.authEnabled);
  const [selected, setSelected] = useState(() => new Set(saved.ids));
  const [filter, setFilter] = useState('');
  const [confirming, setConfirming] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  /** Whether the form differs from a saved state. */
  const differsFrom = (state: SavedState) => enabled !== state.enabled || !sameSet(selected, state.ids);
  const dirty = differsFrom(saved);
  // A change saved elsewhere shows at once while nothing is being edited here; while editing, the
  // page says so instead of overwriting the edit.
  const [changedElsewhere, setChangedElsewhere] = useState(false);
  const [baseline, setBaseline] = useState(saved);
  useEffect(() => {
    if (sameState(saved, baseline)) return;
    const editing = differsFrom(baseline) && dirty; // edited here, and not what was just saved
    setBaseline(saved);
    if (editing) {
      setChangedElsewhere(true);
    } else {
      setEnabled(saved.enabled);
      setSelected(new Set(saved.ids));
    }
  }, [saved]);

  const discard = () => {
    setEnabled(saved.enabled);
    setSelected(new Set(saved.ids));
    setChangedElsewhere(false);
    setError(null);
  };

  const save = async () => {
    setConfirming(null);
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const data = await request(SetDeploymentAuthMutation, { input: { deploymentId: deployment.id, enabled, apiKeyIds: [...selected] } });
      setResult(propagationLabel(data.setDeploymentAuth.propagation));
      setChangedElsewhere(false);
      props.changed(data.setDeploymentAuth.propagation.revision);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    const risk = riskOf(enabled, selected.size);
    if (risk) setConfirming(risk);
    else void save();
  };

  const toggle = (key: ApiKeyRow) => {
    const next = new Set(selected);
    if (next.has(key.id)) next.delete(key.id);
    else next.add(key.id);
    setSelected(next);
    setResult(null);
  };

  const shown = keys.filter((k) => k.name.includes(filter.trim().toLowerCase()) || (k.description ?? '').toLowerCase().includes(filter.trim().toLowerCase()));
  const risk = riskOf(enabled, selected.size);

  return (
    <form class="keys-tab" onSubmit={submit}>
      <label class="switch">
        <input
          type="checkbox"
          role="switch"
          name="authEnabled"
          checked={enabled}
          onChange={(e) => {
            setEnabled(e.currentTarget.checked);
            setResult(null);
          }}
        />
        <span>Enable API Key authentication</span>
      </label>
      <p class="muted">
        {enabled ? 'Only requests with one of the selected keys (X-API-Key) reach the model; the rest get 401.' : 'Every request reaches the model.'}
      </p>

      <fieldset class="key-picker">
        <legend>
          API keys linked to this deployment <span class="muted">({selected.size} selected)</span>
        </legend>
        {keys.length === 0 ? (
          <Empty title="This project has no API keys">
            <a href={paths.keys(project.slug)} onClick={(e) => onLinkClick(e, paths.keys(project.slug))}>
              Create one on the API Keys page
            </a>
          </Empty>
        ) : (
          <>
            {keys.length > 8 && (
              <input type="search" class="filter" placeholder="Filter keys" aria-label="Filter keys" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
            )}
            <ul class="options">
              {shown.map((key) => (
                <li key={key.id}>
                  <label class="inline">
                    <input type="checkbox" name="apiKeyIds" value={key.id} checked={selected.has(key.id)} onChange={() => toggle(key)} />
                    <span class="name">{key.name}</span> <code class="muted">{key.prefix}…</code>
                    {key.expired ? <span class="badge locked">Expired</span> : <span class="muted">{key.expiresAt ? `expires ${expiryLabel(key)}` : 'never expires'}</span>}
                  </label>
                </li>
              ))}
            </ul>
          </>
        )}
      </fieldset>

      {risk && dirty && (
        <p class="warning" role="status">
          {risk}
        </p>
      )}
      {changedElsewhere && (
        <p class="notice" role="status">
          Someone else changed this deployment's keys while you were editing.{' '}
          <button type="button" class="link" onClick={discard}>
            Show their version
          </button>
        </p>
      )}
      <FormError error={error} />
      {result && (
        <p class="success" role="status" data-propagation>
          {result}
        </p>
      )}
      <div class="actions start">
        <button type="submit" disabled={!dirty || busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
        <button type="button" class="secondary" disabled={!dirty || busy} onClick={discard}>
          Discard
        </button>
      </div>

      {confirming && (
        <Dialog title="Save this state?" onClose={() => setConfirming(null)}>
          <p class="warning">{confirming}</p>
          <div class="actions">
            <button type="button" class="secondary" onClick={() => setConfirming(null)} autofocus>
              Go back
            </button>
            <button type="button" class="danger" onClick={() => void save()}>
              Save anyway
            </button>
          </div>
        </Dialog>
      )}
    </form>
  );
}
