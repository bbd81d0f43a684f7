// Which deployment a request names: by Host (model-<deployment>.<project-slug>.<base-domain>), or,
// on any other Host, by path (/<project-slug>/<deployment>/<rest>), else the proxy's own /-/
// endpoints. Matching is case-insensitive and ignores the port. Pure: the table lookup is the
// caller's, so a route names a deployment without knowing whether it exists.

// Metrics are not here: they are on the status listener (status-server.ts), off the public port.
export type InternalEndpoint = 'healthz' | 'readyz';

export type Route =
  /** `path` is what the upstream is asked for (its upstreamUrl path gets joined in front) */
  | { kind: 'deployment'; projectSlug: string; name: string; path: string; byHost: boolean }
  | { kind: 'internal'; endpoint: InternalEndpoint }
  | { kind: 'none' };

const NONE: Route = { kind: 'none' };
const INTERNAL: Record<string, Route> = {
  '/-/healthz': { kind: 'internal', endpoint: 'healthz' },
  '/-/readyz': { kind: 'internal', endpoint: 'readyz' },
};
const HOST_PREFIX = 'model-';

export type Router = (host: string | undefined, url: string) => Route;

export function createRouter(baseDomain: string): Router {
  const suffix = `.${baseDomain.toLowerCase()}`;
  return function route(host, url) {
    const byHost = host === undefined ? null : deploymentFromHost(host, suffix);
    if (byHost) return { kind: 'deployment', projectSlug: byHost[1], name: byHost[0], path: url, byHost: true };
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (pathname.startsWith('/-/')) return INTERNAL[pathname] ?? NONE;
    return deploymentFromPath(url);
  };
}

/** [deployment, project slug] of a deployment host, or null. */
function deploymentFromHost(rawHost: string, suffix: string): [string, string] | null {
  let host = rawHost.toLowerCase();
  // Strip the port; a bracketed IPv6 literal is never a deployment host, so no special case.
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && host.indexOf(']') === -1) host = host.slice(0, colon);
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (!host.startsWith(HOST_PREFIX) || !host.endsWith(suffix)) return null;
  const middle = host.slice(HOST_PREFIX.length, host.length - suffix.length);
  const dot = middle.indexOf('.');
  if (dot <= 0 || dot === middle.length - 1 || middle.indexOf('.', dot + 1) !== -1) return null;
  return [middle.slice(0, dot), middle.slice(dot + 1)];
}

/** /<slug>/<deployment>[/<rest>][?query] → forwards /<rest>[?query]. */
function deploymentFromPath(url: string): Route {
  if (url.charCodeAt(0) !== 47 /* / */) return NONE;
  const second = url.indexOf('/', 1);
  if (second <= 1) return NONE;
  let end = second + 1;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */) break;
    end++;
  }
  if (end === second + 1) return NONE;
  const rest = url.slice(end);
  return {
    kind: 'deployment',
    projectSlug: url.slice(1, second).toLowerCase(),
    name: url.slice(second + 1, end).toLowerCase(),
    path: rest === '' ? '/' : rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest,
    byHost: false,
  };
}
