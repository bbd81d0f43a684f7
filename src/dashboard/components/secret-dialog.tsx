// A new key's secret, shown once, in the dialog that created it (so focus still returns to what
// opened that dialog): focused and selected when it appears. Escape and × ask before closing unless
// the secret was copied with its button; "I have copied it" is the user's own word.
import { useEffect, useRef, useState } from 'preact/hooks';
import { CopyButton } from './copy-button.tsx';

/** The dialog's close handling while it shows a secret: ask first unless it was copied. */
export function useSecretClose(onClose: () => void) {
  const [copied, setCopied] = useState(false);
  const [asking, setAsking] = useState(false);
  return { asking, keep: () => setAsking(false), copied: () => setCopied(true), close: () => (copied ? onClose() : setAsking(true)) };
}

export function SecretPanel(props: { secret: string; state: ReturnType<typeof useSecretClose>; onClose: () => void }) {
  const { state } = props;
  const secretRef = useRef<HTMLElement>(null);
  const keepRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const element = secretRef.current;
    if (!element) return;
    element.focus();
    // selected too, so Ctrl+C copies it at once
    const range = document.createRange();
    range.selectNodeContents(element);
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
  }, []);
  useEffect(() => {
    if (state.asking) keepRef.current?.focus();
  }, [state.asking]);

  return (
    <>
      <p class="warning">Copy this secret now. keygate keeps only its hash: it cannot show it again. If it is lost, create a new key.</p>
      <div class="secret">
        <code data-secret tabIndex={0} ref={secretRef} aria-label="The new key's secret">
          {props.secret}
        </code>
        <CopyButton value={props.secret} onCopied={state.copied} />
      </div>
      <p class="muted">Send it in the X-API-Key header (or as Authorization: Bearer) to deployments this key is linked to.</p>
      {state.asking ? (
        <div class="warning" role="alertdialog" aria-label="Close without copying?">
          <p>You have not copied the secret with the Copy button. Once this closes, nobody can see it again.</p>
          <div class="actions">
            <button type="button" class="secondary" ref={keepRef} onClick={state.keep}>
              Keep it open
            </button>
            <button type="button" class="danger" onClick={props.onClose}>
              Close without copying
            </button>
          </div>
        </div>
      ) : (
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            I have copied it
          </button>
        </div>
      )}
    </>
  );
}
