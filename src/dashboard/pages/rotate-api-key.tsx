// Rotating a key (docs/api.md, rotateApiKey): the overlap during which the current secret keeps
// working, then the new secret, shown once in the same dialog (it asks before closing unless Copy
// was used); and the previous prefix with its end time while it still works.
import { useState } from 'preact/hooks';
import { Dialog } from '../components/dialog.tsx';
import { FormFooter, useSubmit } from '../components/form.tsx';
import { SecretPanel, useSecretClose } from '../components/secret-dialog.tsx';
import { formatDateTime, lastUsedLabel, propagationLabel, useNow } from '../lib/format.ts';
import { request } from '../lib/graphql.ts';
import { RotateApiKeyMutation } from '../lib/lifecycle-operations.ts';

export const OVERLAPS: [number, string][] = [
  [0, 'None: the current secret stops working at once'],
  [3_600, '1 hour'],
  [86_400, '1 day'],
  [604_800, '7 days'],
];

export interface RotatableKey {
  id: string;
  name: string;
  previousPrefix?: string | null;
  previousSecretExpiresAt?: string | null;
}

/** Whether the previous secret still works at `now`. */
export const overlapRunning = (key: RotatableKey, now = Date.now()) =>
  !!key.previousPrefix && !!key.previousSecretExpiresAt && new Date(key.previousSecretExpiresAt).getTime() > now;

/** "ab12cd… works until Dec 3, 2026, 5:00 PM (in 59 minutes)", while it does. */
export function PreviousSecret(props: { apiKey: RotatableKey }) {
  const now = useNow(15_000);
  const { apiKey } = props;
  if (!overlapRunning(apiKey, now)) return null;
  const end = apiKey.previousSecretExpiresAt!;
  return (
    <span class="previous-secret" data-previous-prefix={apiKey.previousPrefix}>
      <code>{apiKey.previousPrefix}…</code> (previous secret) works until <time dateTime={end}>{formatDateTime(end)}</time> ({lastUsedLabel(end, now)})
    </span>
  );
}

export function RotateApiKey(props: { apiKey: RotatableKey; changed: (revision: number) => void; onClose: () => void }) {
  const { apiKey } = props;
  const [overlap, setOverlap] = useState(3_600);
  const [rotated, setRotated] = useState<{ secret: string; note: string } | null>(null);
  const { errors, busy, submit } = useSubmit(['overlapSeconds'], async () => {
    const data = await request(RotateApiKeyMutation, { input: { id: apiKey.id, overlapSeconds: overlap } });
    setRotated({ secret: data.rotateApiKey.secret, note: propagationLabel(data.rotateApiKey.propagation) });
    props.changed(data.rotateApiKey.propagation.revision);
  });
  const secretClose = useSecretClose(props.onClose);
  return (
    <Dialog title={rotated ? `API key "${apiKey.name}" rotated` : `Rotate API key "${apiKey.name}"`} onClose={rotated ? secretClose.close : props.onClose}>
      {rotated ? (
        <>
          <p class="muted">{rotated.note}</p>
          <SecretPanel secret={rotated.secret} state={secretClose} onClose={props.onClose} />
        </>
      ) : (
        <form onSubmit={submit}>
          <p>A new secret for the same key: its name, links, limits and usage stay.</p>
          {overlapRunning(apiKey) && (
            <p class="warning">
              The previous secret <code>{apiKey.previousPrefix}…</code> still works from the last rotation: rotating again stops it at once.
            </p>
          )}
          <fieldset class="field">
            <legend class="label">The current secret keeps working for</legend>
            {OVERLAPS.map(([seconds, label]) => (
              <label class="inline" key={seconds}>
                <input type="radio" name="overlap" value={seconds} checked={overlap === seconds} onChange={() => setOverlap(seconds)} />
                <span>{label}</span>
              </label>
            ))}
          </fieldset>
          <FormFooter error={errors.field.overlapSeconds ?? errors.form} busy={busy} submit="Rotate" onCancel={props.onClose} />
        </form>
      )}
    </Dialog>
  );
}
