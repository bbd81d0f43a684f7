// Views whose code is fetched the first time they are shown: the usage views carry uPlot (~50 KB),
// which the rest of the dashboard does without.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** A component that loads its code on first use; until then it shows "Loading…". */
export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loading: Promise<ComponentType<P>> | null = null;
  let loaded: ComponentType<P> | null = null;
  return function Lazy(props: P) {
    const [View, setView] = useState<ComponentType<P> | null>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (View) return;
      loading ??= load().then((c) => (loaded = c));
      loading.then(
        (c) => setView(() => c),
        () => {
          loading = null;
          setFailed(true);
        },
      );
    }, []);
    if (View) return <View {...props} />;
    return failed ? <p class="form-error">This view could not be loaded: check the connection, then reload the page.</p> : <p class="muted">Loading…</p>;
  };
}

export const UsageSection = lazy(() => import('./usage-panel.tsx').then((m) => m.UsageSection));
export const UsagePage = lazy(() => import('../pages/usage.tsx').then((m) => m.Usage));
