// Copies a value to the clipboard and says so.
import { useState } from 'preact/hooks';

export function CopyButton(props: { value: string; label?: string; onCopied?: () => void }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.value);
      setState('copied');
      props.onCopied?.();
    } catch {
      setState('failed'); // no clipboard permission (e.g. plain http on another host): select it by hand
    }
    setTimeout(() => setState('idle'), 2000);
  };
  return (
    <button type="button" class="secondary small" onClick={copy} aria-live="polite">
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : (props.label ?? 'Copy')}
    </button>
  );
}
