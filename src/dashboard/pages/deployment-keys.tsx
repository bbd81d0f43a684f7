// A deployment's API Keys tab: the authentication toggle and the linked set, edited together and
// saved at once. The keys to pick from are searched on the server (a project may have 100,000);
// the selected ones stay listed whatever the search. Expired keys are marked and cannot be picked
// (the API refuses to link them); one that expired while linked may stay or be removed.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Dialog } from '../components/dialog.tsx';
import { Empty } from '../components/empty.tsx';
import { FormError } from '../components/form.tsx';
import { LoadMore } from '../components/load-more.tsx';
import { countLabel, expiryLabel, propagationLabel } from '../lib/format.ts';
import { messageOf, request } from '../lib/graphql.ts';
import { useKeyList } from '../lib/key-list.ts';
import { SetDeploymentAuthMutation } from '../lib/operations.ts';
import type { DeploymentRow, LinkedKey, ProjectData } from '../lib/project-data.ts';
import { onLinkClick, paths } from '../lib/router.ts';

/** What saving a state would do that deserves a second look; null when nothing. */
function riskOf(enabled: boolean, selected: LinkedKey[]): string | null {
  if (!enabled) return 'Authentication is off: anyone who can reach the endpoint can call the model, with or without a key.';
  if (selected.length === 0) return 'No key is selected: every request to this deployment will get 401, so everyone is locked out.';
  if (selected.every((k) => k.expired)) return 'Every selected key has expired: every request to this deployment will get 401, so everyone is locked out.';
  return null;
}

const sameSet = (a: Set<string>, b: string[]) => a.size === b.length && b.every((id) => a.has(id));

/** A deployment's authentication as saved: the toggle and the linked keys. */
interface SavedState {
  enabled: boolean;
  ids: string[];
}
const sameState = (a: SavedState, b: SavedState) => a.enabled === b.enabled && sameSet(new Set(a.ids), b.ids);

export function KeysTab(props: { project: ProjectData; deployment: DeploymentRow; version: number; changed: (revision: number) => void }) {
  const { project, deployment } = props;
  const saved = useMemo(() => ({ enabled: deployment.authEnabled, ids: deployment.apiKeys.map((k) => k.id) }), [deployment]);
  const [enabled, setEnabled] = useState(deployment.authEnabled);
  const [selected, setSelected] = useState(() => new Set(saved.ids));
  const [filter, setFilter] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setSearch(filter.trim()), 250);
    return () => clearTimeout(timer);
  }, [filter]);
  const list = useKeyList(project.slug, search, 'NAME_ASC', props.version);
  // What is known of each key that is or was selected here, for the ones the search does not show.
  const [known, setKnown] = useState(() => new Map<string, LinkedKey>());
  const describe = (id: string): LinkedKey | undefined =>
    deployment.apiKeys.find((k) => k.id === id) ?? list.rows.find((k) => k.id === id) ?? known.get(id);
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

  const selectedKeys = [...selected].map(describe).filter((k): k is LinkedKey => k !== undefined);
  const risk = riskOf(enabled, selectedKeys);
  // The selected keys the search does not show come first, so what is linked is always in view.
  const inRows = new Set(list.rows.map((k) => k.id));
  const shown: LinkedKey[] = [...selectedKeys.filter((k) => !inRows.has(k.id) && (search === '' || k.name.includes(search.toLowerCase()))), ...list.rows];
  const noKeys = list.total === 0 && search === '';

  const submit = (event: Event) => {
    event.preventDefault();
    if (risk) setConfirming(risk);
    else void save();
  };

  const toggle = (key: LinkedKey) => {
    const next = new Set(selected);
    if (next.has(key.id)) next.delete(key.id);
    else next.add(key.id);
    setKnown((before) => new Map(before).set(key.id, key));
    setSelected(next);
    setResult(null);
  };

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
        {noKeys ? (
          <Empty title="This project has no API keys">
            <a href={paths.keys(project.slug)} onClick={(e) => onLinkClick(e, paths.keys(project.slug))}>
              Create one on the API Keys page
            </a>
          </Empty>
        ) : (
          <>
            <div class="toolbar">
              <input type="search" class="filter" placeholder="Search by name or prefix" aria-label="Filter keys" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
              <span class="total muted">{list.total === null ? '' : countLabel(list.total, 'key', 'keys')}</span>
            </div>
            <ul class="options">
              {shown.map((key) => {
                const checked = selected.has(key.id);
                // An expired key can be unticked, never ticked.
                const blocked = key.expired && !checked;
                return (
                  <li key={key.id} class={key.expired ? 'expired' : undefined}>
                    <label class="inline">
                      <input type="checkbox" name="apiKeyIds" value={key.id} checked={checked} disabled={blocked} onChange={() => toggle(key)} />
                      <span class="name">{key.name}</span> <code class="muted">{key.prefix}…</code>
                      {key.expired ? (
                        <span class="badge locked">{checked ? 'Expired: opens nothing' : 'Expired: cannot be linked'}</span>
                      ) : (
                        <span class="muted">{key.expiresAt ? `expires ${expiryLabel(key)}` : 'never expires'}</span>
                      )}
                    </label>
                  </li>
                );
              })}
            </ul>
            {list.total === 0 && <p class="muted">No key matches "{search}".</p>}
            <LoadMore shown={list.rows.length} total={list.total} loading={list.loading} hasMore={list.hasMore} onMore={list.loadMore} />
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
