// The dashboard's shell: sign-in, the header (project, navigation, live status, sign-out) and the
// page for the current URL.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { DashboardViewerQuery } from './generated/graphql.ts';
import { messageOf, request, whenUnauthenticated } from './lib/graphql.ts';
import type { LiveStatus } from './lib/live.ts';
import { ViewerQuery } from './lib/operations.ts';
import { UsagePage } from './components/lazy.tsx';
import { useProject } from './lib/project-data.ts';
import { focusHeadingSoon, useTitle } from './lib/page.ts';
import { navigate, onLinkClick, paths, type Route, useRoute } from './lib/router.ts';
import { session } from './lib/session.ts';
import { ApiKey } from './pages/api-key.tsx';
import { ApiKeys } from './pages/api-keys.tsx';
import { Deployment } from './pages/deployment.tsx';
import { Deployments } from './pages/deployments.tsx';
import { Projects } from './pages/projects.tsx';
import { Activity } from './pages/activity.tsx';
import { SignIn } from './pages/sign-in.tsx';

type Viewer = DashboardViewerQuery['viewer'];

export function App() {
  const [token, setToken] = useState(session.token);
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const signOut = useCallback((why: string | null = null) => {
    session.signOut();
    setToken(null);
    setViewer(null);
    setNotice(why);
  }, []);
  const forbidden = useCallback(() => signOut('Your access token is no longer accepted (deleted or expired). Sign in again.'), [signOut]);
  useLayoutEffect(() => whenUnauthenticated(forbidden), [forbidden]);
  // One session per browser: a sign-in or sign-out in another tab holds here too.
  useEffect(
    () =>
      session.onChange((next) => {
        setViewer(null);
        setToken(next);
        if (!next) setNotice('You signed out in another tab.');
      }),
    [],
  );

  // After a reload the token is there but not who it is; a sign-in brings both. A project page
  // does not wait for it: its own first reads go out alongside this one. Layout effects (here and
  // in useProject) send the first reads as the app mounts rather than after its first paint.
  useLayoutEffect(() => {
    if (!token || viewer) return;
    request(ViewerQuery, {}).then(
      (data) => setViewer(data.viewer),
      (e: unknown) => setError(messageOf(e)),
    );
  }, [token, viewer]);

  if (!token) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(value, signedIn) => {
          session.signIn(value);
          setNotice(null);
          setError(null);
          setViewer(signedIn);
          setToken(value);
        }}
      />
    );
  }
  return <SignedIn viewer={viewer} error={error} onSignOut={() => signOut()} onForbidden={forbidden} />;
}

/** `viewer` is null while it is being read: project pages start at once, the others wait for it. */
function SignedIn(props: { viewer: Viewer | null; error: string | null; onSignOut: () => void; onForbidden: () => void }) {
  const route = useRoute();
  const { viewer } = props;
  // After sign-in and after each navigation, focus goes to the new view's heading.
  const path = useRef<string | null>(null);
  useEffect(() => {
    if (path.current === location.pathname) return;
    path.current = location.pathname;
    return focusHeadingSoon();
  }, [route]);
  // A project token sees one project: start there.
  useEffect(() => {
    if (route.page === 'projects' && viewer?.project) navigate(paths.keys(viewer.project.slug));
  }, [route.page, viewer?.project]);

  return (
    <>
      <header class="top">
        <a class="brand" href="/" onClick={(e) => onLinkClick(e, '/')}>
          keygate
        </a>
        {viewer && (
          <span class="who">
            {viewer.tokenName} <span class="muted">({viewer.role === 'ADMIN' ? 'admin' : 'project'})</span>
          </span>
        )}
        <button class="secondary small" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      {'slug' in route ? (
        <ProjectPages key={route.slug} route={route} onForbidden={props.onForbidden} />
      ) : !viewer ? (
        <main class="page">{props.error ? <p class="form-error">{props.error}</p> : <p class="muted">Loading…</p>}</main>
      ) : route.page === 'projects' ? (
        <Projects isAdmin={viewer.role === 'ADMIN'} />
      ) : (
        <NotFound />
      )}
    </>
  );
}

function NotFound() {
  useTitle('Page not found');
  return (
        <main class="page">
          <h1>Page not found</h1>
          <a href="/" onClick={(e) => onLinkClick(e, '/')}>
            Projects
          </a>
        </main>
  );
}

const LIVE_LABEL: Record<LiveStatus, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };

function ProjectPages(props: { route: Extract<Route, { slug: string }>; onForbidden: () => void }) {
  const { route } = props;
  const { project, error, loading, live, version, ready, changed } = useProject(route.slug, props.onForbidden);
  const section = route.page === 'keys' || route.page === 'key' ? 'keys' : route.page === 'usage' ? 'usage' : route.page === 'activity' ? 'activity' : 'deployments';
  const deployment = route.page === 'deployment' ? project?.deployments.edges.find((e) => e.node.id === route.id)?.node.name : null;
  const view =
    route.page === 'keys'
      ? 'API Keys'
      : route.page === 'deployments'
        ? 'Deployments'
        : route.page === 'usage'
          ? 'Usage'
          : route.page === 'activity'
            ? 'Activity'
          : route.page === 'key'
            ? 'API key' // the key's page names itself once it has read the key
            : route.tab === 'api-keys'
              ? 'API Keys'
              : route.tab === 'usage'
                ? 'Usage'
                : 'Overview';
  useTitle(deployment ? `${deployment} (${view})` : view, project?.name ?? route.slug);
  return (
    <>
      <nav class="project-nav" aria-label="Project">
        <span class="project-name">{project?.name ?? route.slug}</span>
        <a href={paths.keys(route.slug)} class={section === 'keys' ? 'active' : undefined} aria-current={section === 'keys' ? 'page' : undefined} onClick={(e) => onLinkClick(e, paths.keys(route.slug))}>
          API Keys
        </a>
        <a
          href={paths.deployments(route.slug)}
          class={section === 'deployments' ? 'active' : undefined}
          aria-current={section === 'deployments' ? 'page' : undefined}
          onClick={(e) => onLinkClick(e, paths.deployments(route.slug))}
        >
          Deployments
        </a>
        <a href={paths.usage(route.slug)} class={section === 'usage' ? 'active' : undefined} aria-current={section === 'usage' ? 'page' : undefined} onClick={(e) => onLinkClick(e, paths.usage(route.slug))}>
          Usage
        </a>
        <a
          href={paths.activity(route.slug)}
          class={section === 'activity' ? 'active' : undefined}
          aria-current={section === 'activity' ? 'page' : undefined}
          onClick={(e) => onLinkClick(e, paths.activity(route.slug))}
        >
          Activity
        </a>
        {project && (
          <span class={`live ${live}`} role="status" title="Changes made elsewhere appear here without a reload">
            {LIVE_LABEL[live]}
          </span>
        )}
      </nav>
      <main class="page">
        {error && <p class="form-error">{error}</p>}
        {loading && !project && route.page !== 'keys' && route.page !== 'key' && <p class="muted">Loading…</p>}
        {/* the keys' first page is read alongside the project's state, not after it */}
        {ready && !error && route.page === 'keys' && <ApiKeys slug={route.slug} project={project} version={version} changed={changed} />}
        {project && route.page === 'deployments' && <Deployments project={project} changed={changed} />}
        {project && route.page === 'deployment' && <Deployment project={project} id={route.id} tab={route.tab} version={version} changed={changed} />}
        {ready && !error && route.page === 'key' && <ApiKey slug={route.slug} projectName={project?.name ?? null} projectId={project?.id ?? null} id={route.id} version={version} changed={changed} />}
        {project && route.page === 'usage' && <UsagePage project={project} />}
        {project && route.page === 'activity' && <Activity project={project} version={version} />}
      </main>
    </>
  );
}
