// The end of a long list: more is read as it scrolls into view, or with the button (keyboard,
// or a browser without IntersectionObserver).
import { useEffect, useRef } from 'preact/hooks';

export function LoadMore(props: { shown: number; total: number | null; loading: boolean; hasMore: boolean; onMore: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const { onMore, hasMore } = props;
  useEffect(() => {
    const element = ref.current;
    if (!element || !hasMore || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && onMore(), { rootMargin: '400px' });
    observer.observe(element);
    return () => observer.disconnect();
  }, [onMore, hasMore]);
  if (!props.hasMore) return null;
  return (
    <div class="load-more" ref={ref}>
      <button type="button" class="secondary" disabled={props.loading} onClick={onMore}>
        {props.loading ? 'Loading…' : `Show more (${props.shown.toLocaleString('en-US')} of ${(props.total ?? 0).toLocaleString('en-US')} shown)`}
      </button>
    </div>
  );
}
