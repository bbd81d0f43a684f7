// What each view does to the page around it: its title, and moving focus to its heading (after
// sign-in and on each navigation, so a screen reader or keyboard user starts at the new view).
import { useEffect } from 'preact/hooks';

/** document.title as "API Keys · acme · keygate". */
export function useTitle(...parts: (string | null | undefined)[]) {
  const title = [...parts.filter(Boolean), 'keygate'].join(' · ');
  useEffect(() => {
    document.title = title;
  }, [title]);
}

/** Focuses the main heading once the view has rendered it (it may wait for data); gives up after `timeoutMs`. */
export function focusHeadingSoon(timeoutMs = 5000): () => void {
  const end = Date.now() + timeoutMs;
  let frame = 0;
  const tick = () => {
    const heading = document.querySelector<HTMLElement>('main h1');
    if (heading) {
      if (!heading.hasAttribute('tabindex')) heading.tabIndex = -1;
      heading.focus();
    } else if (Date.now() < end) {
      frame = requestAnimationFrame(tick);
    }
  };
  frame = requestAnimationFrame(tick);
  return () => cancelAnimationFrame(frame);
}
