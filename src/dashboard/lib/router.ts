// A small path router: the dashboard's pages are real URLs (the control plane answers
// index.html for each), so reload, back and forward work.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'projects' }
  | { page: 'keys'; slug: string }
  | { page: 'deployments'; slug: string }
  | { page: 'deployment'; slug: string; id: string; tab: DeploymentTab }
  | { page: 'key'; slug: string; id: string }
  | { page: 'usage'; slug: string }
  | { page: 'activity'; slug: string }
  | { page: 'not-found' };

export type DeploymentTab = 'overview' | 'api-keys' | 'usage';

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'projects' };
  const [first, slug, section, id, tab] = parts;
  if (first !== 'projects' || !slug) return { page: 'not-found' };
  if (!section || section === 'keys') return parts.length <= 3 ? { page: 'keys', slug } : parts.length === 4 ? { page: 'key', slug, id: id! } : { page: 'not-found' };
  if (section === 'activity') return parts.length === 3 ? { page: 'activity', slug } : { page: 'not-found' };
  if (section === 'usage') return parts.length === 3 ? { page: 'usage', slug } : { page: 'not-found' };
  if (section !== 'deployments') return { page: 'not-found' };
  if (!id) return { page: 'deployments', slug };
  if (!tab || tab === 'overview' || tab === 'api-keys' || tab === 'usage') return { page: 'deployment', slug, id, tab: (tab ?? 'overview') as DeploymentTab };
  return { page: 'not-found' };
}

export const paths = {
  projects: () => '/',
  keys: (slug: string) => `/projects/${encodeURIComponent(slug)}/keys`,
  deployments: (slug: string) => `/projects/${encodeURIComponent(slug)}/deployments`,
  deployment: (slug: string, id: string, tab: DeploymentTab = 'overview') =>
    `/projects/${encodeURIComponent(slug)}/deployments/${encodeURIComponent(id)}${tab === 'overview' ? '' : `/${tab}`}`,
  key: (slug: string, id: string) => `/projects/${encodeURIComponent(slug)}/keys/${encodeURIComponent(id)}`,
  usage: (slug: string) => `/projects/${encodeURIComponent(slug)}/usage`,
  activity: (slug: string) => `/projects/${encodeURIComponent(slug)}/activity`,
};

export function navigate(path: string) {
  if (path === location.pathname) return;
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

/** An in-app link: a real <a href> (open in a new tab works) that navigates without a reload. */
export function onLinkClick(event: MouseEvent, path: string) {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(path);
}
