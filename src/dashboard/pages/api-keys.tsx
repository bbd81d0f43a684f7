// The API Keys page: the project's keys, searched and ordered on the server and read page by page
// as the list scrolls, with the exact number of matches; creating one (its secret shown once),
// editing one and deleting one (forcing the unlink of a linked key).
import { useEffect, useState } from 'preact/hooks';
import { Empty } from '../components/empty.tsx';
import { LoadMore } from '../components/load-more.tsx';
import { countLabel, formatDate, formatDateTime, lastUsedLabel, useNow } from '../lib/format.ts';
import type { ApiKeyOrder } from '../generated/graphql.ts';
import { useKeyList } from '../lib/key-list.ts';
import { useKeyUsage } from '../lib/key-usage.ts';
import { formatCount } from '../lib/usage.ts';
import { limitLabel } from '../lib/rate-limit.ts';
import type { ApiKeyRow, ProjectData } from '../lib/project-data.ts';
import { onLinkClick, paths } from '../lib/router.ts';
import { CreateApiKey, DeleteApiKey, EditApiKey } from './api-key-dialogs.tsx';
import { expiryClass, expiryText } from '../lib/expiry.ts';
import { PreviousSecret, RotateApiKey } from './rotate-api-key.tsx';

const ORDERS: [ApiKeyOrder, string][] = [
  ['CREATED_AT_DESC', 'Newest first'],
  ['CREATED_AT_ASC', 'Oldest first'],
  ['NAME_ASC', 'Name'],
  ['LAST_USED_AT_DESC', 'Recently used'],
  ['EXPIRES_AT_ASC', 'Expiring soonest'],
];

/** The search box's text once the user pauses typing. */
function useSettled(value: string, delayMs = 250): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value.trim()), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/** `project` is null while its state is still on its way (the list does not wait for it). */
export function ApiKeys(props: { slug: string; project: ProjectData | null; version: number; changed: (revision: number) => void }) {
  const { project, slug } = props;
  const [query, setQuery] = useState('');
  const [orderBy, setOrderBy] = useState<ApiKeyOrder>('CREATED_AT_DESC');
  const search = useSettled(query);
  const list = useKeyList(slug, search, orderBy, props.version);
  const usage = useKeyUsage(
    slug,
    list.rows.map((k) => k.id),
    project?.id ?? null,
  );
  const now = useNow();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<ApiKeyRow | null>(null);
  const [deleting, setDeleting] = useState<ApiKeyRow | null>(null);
  const [rotating, setRotating] = useState<ApiKeyRow | null>(null);
  const empty = list.total === 0 && search === '';

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>API Keys</h1>
        <button disabled={!project} onClick={() => setCreating(true)}>
            Create API key
          </button>
      </div>
      {empty ? (
        <Empty title="No API keys yet">
          <p>Create a key, then link it to a deployment on the deployment's API Keys tab.</p>
          <button disabled={!project} onClick={() => setCreating(true)}>
            Create API key
          </button>
        </Empty>
      ) : (
        <>
          <div class="toolbar">
            <input type="search" aria-label="Search keys" placeholder="Search by name or prefix" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
            <label class="order">
              <span>Order</span>
              <select value={orderBy} onChange={(e) => setOrderBy(e.currentTarget.value as ApiKeyOrder)}>
                {ORDERS.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <span class="total" role="status" data-total>
              {list.total === null ? 'Counting…' : countLabel(list.total, 'key', 'keys')}
              {search && list.total !== null ? ` match "${search}"` : ''}
            </span>
          </div>
          {list.error && <p class="form-error">{list.error}</p>}
          {list.total === 0 ? (
            <Empty title={`No key matches "${search}"`}>
              <p>Search looks at key names and prefixes.</p>
            </Empty>
          ) : (
            <table class="keys cards">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Description</th>
                  <th>Prefix</th>
                  <th>Expires</th>
                  <th>Deployments</th>
                  <th>Last used</th>
                  <th>Rate limit</th>
                  <th>Requests (24&nbsp;h)</th>
                  <th>
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.rows.map((key) => (
                  <tr key={key.id} data-key={key.name} class={key.expired ? 'expired' : undefined}>
                    <td class="name">
                      <button type="button" class="link" aria-label={`Edit ${key.name}`} title="Edit this key" onClick={() => setEditing(key)}>
                        {key.name}
                      </button>
                    </td>
                    <td class="muted description" data-label="Description" title={key.description ?? undefined}>
                      <span class="clamp">{key.description || '—'}</span>
                    </td>
                    <td data-label="Prefix">
                      <code>{key.prefix}…</code> {key.previousPrefix && <PreviousSecret apiKey={key} />}
                    </td>
                    <td class={expiryClass(key)} data-label="Expires" title={key.expiresAt ? formatDateTime(key.expiresAt) : undefined}>
                      {expiryText(key, now)}
                      {key.expiresSoon && !key.expired && key.expiresAt && <span class="muted"> ({formatDate(key.expiresAt)})</span>}
                    </td>
                    <td class="linked" data-label="Deployments">
                      {key.deployments.length === 0 ? (
                        <span class="muted">None</span>
                      ) : (
                        key.deployments.map((d) => {
                          const href = paths.deployment(slug, d.id, 'api-keys');
                          return (
                            <a class="chip" key={d.id} href={href} onClick={(e) => onLinkClick(e, href)}>
                              {d.name}
                            </a>
                          );
                        })
                      )}
                    </td>
                    <td data-label="Last used" title={key.lastUsedAt ? formatDateTime(key.lastUsedAt) : undefined}>
                      {lastUsedLabel(key.lastUsedAt, now)}
                    </td>
                    <td class="rate-limit" data-label="Rate limit" data-rate-limit={limitLabel(key.rateLimit)}>
                      {key.rateLimit ? limitLabel(key.rateLimit) : <span class="muted">—</span>}
                    </td>
                    <td class="usage-count" data-label="Requests (24 h)" data-requests={usage.get(key.id)}>
                      <a href={paths.key(slug, key.id)} onClick={(e) => onLinkClick(e, paths.key(slug, key.id))}>
                        {usage.has(key.id) ? formatCount(usage.get(key.id)!) : '…'}
                        <span class="sr-only"> requests by {key.name}: its usage</span>
                      </a>
                    </td>
                    <td class="row-actions">
                      <button class="secondary small" onClick={() => setRotating(key)} aria-label={`Rotate ${key.name}`}>
                        Rotate
                      </button>{' '}
                      <button class="danger small" onClick={() => setDeleting(key)} aria-label={`Delete ${key.name}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <LoadMore shown={list.rows.length} total={list.total} loading={list.loading} hasMore={list.hasMore} onMore={list.loadMore} />
        </>
      )}
      {creating && project && <CreateApiKey projectId={project.id} changed={props.changed} onClose={() => setCreating(false)} />}
      {editing && <EditApiKey apiKey={editing} changed={props.changed} onClose={() => setEditing(null)} />}
      {rotating && <RotateApiKey apiKey={rotating} changed={props.changed} onClose={() => setRotating(null)} />}
      {deleting && <DeleteApiKey apiKey={deleting} changed={props.changed} onClose={() => setDeleting(null)} />}
    </section>
  );
}
