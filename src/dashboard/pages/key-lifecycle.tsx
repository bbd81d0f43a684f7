// The key page's lifecycle part: the Rotate action, the previous secret with its end time while it
// still works, and the warning once the key's expiry is near. Read again when the project changes.
import { useEffect, useState } from 'preact/hooks';
import type { DashboardKeyLifecycleQuery } from '../generated/graphql.ts';
import { expiryText } from '../lib/expiry.ts';
import { formatDateTime, useNow } from '../lib/format.ts';
import { request } from '../lib/graphql.ts';
import { KeyLifecycleQuery } from '../lib/lifecycle-operations.ts';
import { PreviousSecret, RotateApiKey } from './rotate-api-key.tsx';

type Lifecycle = Extract<NonNullable<DashboardKeyLifecycleQuery['node']>, { name: string }>;

export function KeyLifecycle(props: { id: string; version: number; changed: (revision: number) => void }) {
  const [key, setKey] = useState<Lifecycle | null>(null);
  const [rotating, setRotating] = useState(false);
  const now = useNow();
  useEffect(() => {
    let current = true;
    request(KeyLifecycleQuery, { id: props.id }).then(
      (data) => {
        if (current) setKey(data.node && 'name' in data.node ? (data.node as Lifecycle) : null);
      },
      () => {}, // the page around shows the key's own read errors
    );
    return () => {
      current = false;
    };
  }, [props.id, props.version]);
  if (!key) return null;
  return (
    <div class="lifecycle">
      {key.expiresSoon && !key.expired && key.expiresAt && (
        <p class="warning" data-expiring>
          This key {expiryText(key, now)} ({formatDateTime(key.expiresAt)}): requests with it will get 401 then. Edit it on the API Keys page to
          extend it.
        </p>
      )}
      <p class="previous" data-previous>
        <PreviousSecret apiKey={key} />
      </p>
      <button class="secondary" onClick={() => setRotating(true)}>
        Rotate secret
      </button>
      {rotating && <RotateApiKey apiKey={key} changed={props.changed} onClose={() => setRotating(false)} />}
    </div>
  );
}
