// Form pieces: a labelled field with its hint or error under it (tied to the input for screen
// readers), and the message for errors that belong to no field.
import { cloneElement, type VNode } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { ApiError } from '../lib/graphql.ts';

export function Field(props: { label: string; error?: string | null; hint?: string; children: VNode<any> }) {
  const id = useId();
  // An error stops being shown once the field is edited: it described the old value.
  const [stale, setStale] = useState(false);
  useEffect(() => setStale(false), [props.error]);
  const error = stale ? null : props.error;
  const note = error ?? props.hint;
  return (
    <div class={`field${error ? ' invalid' : ''}`} onInput={() => setStale(true)}>
      <label>
        <span class="label">{props.label}</span>
        {cloneElement(props.children, { 'aria-describedby': note ? id : undefined, 'aria-invalid': error ? true : undefined })}
      </label>
      {note && (
        <span id={id} class={error ? 'error' : 'hint'} role={error ? 'alert' : undefined}>
          {note}
        </span>
      )}
    </div>
  );
}

export function FormError(props: { error: string | null }) {
  return props.error ? (
    <p class="form-error" role="alert">
      {props.error}
    </p>
  ) : null;
}

/** Splits a failure into the field it names (when the form has that field) and the rest. */
function errorsOf(error: unknown, fields: readonly string[]): { field: Record<string, string>; form: string | null } {
  if (error instanceof ApiError && error.field && fields.includes(error.field)) return { field: { [error.field]: error.message }, form: null };
  return { field: {}, form: error instanceof Error ? error.message : String(error) };
}

const noErrors = { field: {} as Record<string, string>, form: null as string | null };

/** A form's submit handler around `action`: busy while it runs, its failure shown at `fields`. */
export function useSubmit(fields: readonly string[], action: () => Promise<void>) {
  const [errors, setErrors] = useState(noErrors);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors(noErrors);
    try {
      await action();
    } catch (e) {
      setErrors(errorsOf(e, fields));
    } finally {
      setBusy(false);
    }
  };
  return { errors, busy, submit };
}

/** A dialog form's footer: its error, Cancel and the submit button. */
export function FormFooter(props: { error: string | null; busy: boolean; submit: string; onCancel: () => void }) {
  return (
    <>
      <FormError error={props.error} />
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" disabled={props.busy}>
          {props.submit}
        </button>
      </div>
    </>
  );
}
