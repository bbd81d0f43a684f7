// An expiry picker: Never, or the end of a day chosen in the user's own time zone (today is the
// earliest, as the user's calendar has it, not UTC's).
import { localDateValue } from '../lib/format.ts';

export type ExpiryChoice = { mode: 'never' | 'date'; date: string };

export function ExpiryField(props: { value: ExpiryChoice; onChange: (value: ExpiryChoice) => void; error?: string | null }) {
  const { value, onChange } = props;
  return (
    <fieldset class={`field expiry${props.error ? ' invalid' : ''}`}>
      <legend class="label">Expires</legend>
      <label class="inline">
        <input type="radio" name="expires" checked={value.mode === 'never'} onChange={() => onChange({ ...value, mode: 'never' })} />
        <span>Never</span>
      </label>
      <label class="inline">
        <input type="radio" name="expires" checked={value.mode === 'date'} onChange={() => onChange({ ...value, mode: 'date' })} />
        <span>On</span>
      </label>
      <input
        type="date"
        name="expiresOn"
        min={localDateValue()}
        value={value.date}
        aria-label="Expiry date"
        onFocus={() => onChange({ ...value, mode: 'date' })}
        onInput={(e) => onChange({ mode: 'date', date: e.currentTarget.value })}
      />
      {props.error && (
        <span class="error" role="alert">
          {props.error}
        </span>
      )}
    </fieldset>
  );
}
