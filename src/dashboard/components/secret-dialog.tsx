// A new key's secret, shown once: focused and selected when it appears. Escape and × ask before
// closing unless the secret was copied with its button; "I have copied it" is the user's own word.
import { useEffect, useRef, useState } from 'preact/hooks';
import { CopyButton } from './copy-button.tsx';
import { Dialog } from './dialog.tsx';

export function SecretDialog(props: { name: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const [asking, setAsking] = useState(false);
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
    if (asking) keepRef.current?.focus();
  }, [asking]);

  const close = () => (copied ? props.onClose() : setAsking(true));
  return (
    <Dialog title={`API key "${props.name}" created`} onClose={close}>
      <p class="warning">Copy this secret now. keygate keeps only its hash: it cannot show it again. If it is lost, create a new key.</p>
      <div class="secret">
        <code data-secret tabIndex={0} ref={secretRef} aria-label="The new key's secret">
          {props.secret}
        </code>
        <CopyButton value={props.secret} onCopied={() => setCopied(true)} />
      </div>
      <p class="muted">Send it in the X-API-Key header (or as Authorization: Bearer) to deployments this key is linked to.</p>
      {asking ? (
        <div class="warning" role="alertdialog" aria-label="Close without copying?">
          <p>You have not copied the secret with the Copy button. Once this closes, nobody can see it again.</p>
          <div class="actions">
            <button type="button" class="secondary" ref={keepRef} onClick={() => setAsking(false)}>
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
    </Dialog>
  );
}
