// One API key's page: what it is (prefix, expiry, last use, the deployments it opens) and its
// rate limit with its use this minute, and its usage charts, live. Read again when the project changes (`version`), so a rename or a delete
// made elsewhere shows.
import { useEffect, useState } from 'preact/hooks';
import { Empty } from '../components/empty.tsx';
import { UsageSection } from '../components/lazy.tsx';
import type { DashboardApiKeyQuery } from '../generated/graphql.ts';
import { expiryLabel, formatDateTime, lastUsedLabel, useNow } from '../lib/format.ts';
import { messageOf, request } from '../lib/graphql.ts';
import { useTitle } from '../lib/page.ts';
import { onLinkClick, paths } from '../lib/router.ts';
import { ApiKeyQuery } from '../lib/usage-operations.ts';
import { KeyLifecycle } from './key-lifecycle.tsx';
import { KeyRateLimit } from './key-rate-limit.tsx';

type KeyNode = Extract<NonNullable<DashboardApiKeyQuery['node']>, { name: string }>;

export function ApiKey(props: { slug: string; projectName: string | null; projectId: string | null; id: string; version: number; changed: (revision: number) => void }) {
  const [key, setKey] = useState<KeyNode | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const now = useNow();
  useTitle(key?.name ?? 'API key', props.projectName ?? props.slug);

  useEffect(() => {
    let current = true;
    request(ApiKeyQuery, { id: props.id }).then(
      (data) => {
        if (!current) return;
        const node = data.node && 'name' in data.node ? data.node : null;
        setKey(node);
        setMissing(!node);
      },
      (e: unknown) => current && setError(messageOf(e)),
    );
    return () => {
      current = false;
    };
  }, [props.id, props.version]);

  const keys = paths.keys(props.slug);
  if (error) return <p class="form-error">{error}</p>;
  if (missing) {
    return (
      <Empty title="This API key does not exist (any more)">
        <a href={keys} onClick={(e) => onLinkClick(e, keys)}>
          All API keys
        </a>
      </Empty>
    );
  }
  if (!key) return <p class="muted">Loading…</p>;
  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>{key.name}</h1>
      </div>
      <div class="overview">
        <dl>
          <dt>Prefix</dt>
          <dd>
            <code>{key.prefix}…</code>
          </dd>
          {key.description && (
            <>
              <dt>Description</dt>
              <dd>{key.description}</dd>
            </>
          )}
          <dt>Expires</dt>
          <dd class={key.expired ? 'expired' : undefined}>{expiryLabel(key)}</dd>
          <dt>Last used</dt>
          <dd title={key.lastUsedAt ? formatDateTime(key.lastUsedAt) : undefined}>{lastUsedLabel(key.lastUsedAt, now)}</dd>
          <dt>Deployments</dt>
          <dd>
            {key.deployments.length === 0
              ? 'None'
              : key.deployments.map((d) => {
                  const href = paths.deployment(props.slug, d.id, 'usage');
                  return (
                    <a class="chip" key={d.id} href={href} onClick={(e) => onLinkClick(e, href)}>
                      {d.name}
                    </a>
                  );
                })}
          </dd>
        </dl>
        <KeyLifecycle id={props.id} version={props.version} changed={props.changed} />
        <KeyRateLimit id={props.id} version={props.version} />
      </div>
      <UsageSection key={props.id} projectId={props.projectId} id={props.id} kind="ApiKey" heading="Usage" />
    </section>
  );
}
