// One project's keys and deployments as the pages show them, kept current: the change log's
// revision is read first, then the state, then the project's events are followed from that
// revision; the state is reloaded whenever the log moves (an event from elsewhere, or a mutation
// made here). Reloads triggered close together are coalesced into one. Keys are not part of it
// (a project may have 100,000): each list reads its own pages (key-list.ts) and reads them again
// when `version` moves.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { DashboardKeyPageQuery, DashboardProjectQuery } from '../generated/graphql.ts';
import { messageOf, request } from './graphql.ts';
import { followProject, type LiveStatus } from './live.ts';
import { ProjectQuery, ProjectRevisionQuery } from './operations.ts';
import { session } from './session.ts';

export type ProjectData = NonNullable<DashboardProjectQuery['project']>;
export type ApiKeyRow = NonNullable<DashboardKeyPageQuery['project']>['apiKeys']['edges'][number]['node'];
export type DeploymentRow = ProjectData['deployments']['edges'][number]['node'];
export type LinkedKey = DeploymentRow['apiKeys'][number];

export interface ProjectState {
  project: ProjectData | null;
  /** a load failed (or the project does not exist / is out of the token's reach) */
  error: string | null;
  loading: boolean;
  live: LiveStatus;
  /** moves each time the project's state is read again: key lists read their pages again */
  version: number;
  /** the revision is read: key lists may read their first page (in parallel with the project's state) */
  ready: boolean;
  /** a mutation made here committed this revision: reload, and resume after it on reconnect */
  changed: (revision: number) => void;
}

const COALESCE_MS = 30;

export function useProject(slug: string, onForbidden: () => void): ProjectState {
  const [project, setProject] = useState<ProjectData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [live, setLive] = useState<LiveStatus>('connecting');
  const [version, setVersion] = useState(0);
  const [ready, setReady] = useState(false);
  const knownRevision = useRef<number | null>(null);
  const [projectId, setProjectId] = useState<string | null>(null);
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const generation = useRef(0);

  const load = useCallback((reload = true) => {
    const mine = ++generation.current;
    request(ProjectQuery, { slug }).then(
      (data) => {
        if (mine !== generation.current) return; // a newer load is on its way
        setLoading(false);
        if (!data.project) setError(`There is no project "${slug}", or your token cannot see it.`);
        else setError(null);
        setProject(data.project ?? null);
        if (reload) setVersion((v) => v + 1);
      },
      (e: unknown) => {
        if (mine !== generation.current) return;
        setLoading(false);
        setError(messageOf(e));
      },
    );
  }, [slug]);

  const reloadSoon = useCallback(() => {
    clearTimeout(pending.current);
    pending.current = setTimeout(() => load(), COALESCE_MS);
  }, [load]);

  /** Reads the revision, then the state; the stream follows from that revision. */
  const start = useCallback(async () => {
    try {
      const { project: head } = await request(ProjectRevisionQuery, { slug });
      if (!head) {
        setLoading(false);
        setError(`There is no project "${slug}", or your token cannot see it.`);
        return;
      }
      knownRevision.current = head.revision;
      setReady(true);
      load(false);
      setProjectId(head.id);
    } catch (e) {
      setLoading(false);
      setError(messageOf(e));
    }
  }, [slug, load]);

  useEffect(() => {
    setProject(null);
    setReady(false);
    setProjectId(null);
    setLoading(true);
    setError(null);
    knownRevision.current = null;
    void start();
    return () => clearTimeout(pending.current);
  }, [start]);

  useEffect(() => {
    const token = session.token();
    if (!projectId || !token) return;
    return followProject({
      projectId,
      token,
      afterRevision: () => knownRevision.current ?? 0,
      onEvent: (event) => {
        knownRevision.current = Math.max(knownRevision.current ?? 0, event.revision);
        reloadSoon();
      },
      resync: start,
      onStatus: setLive,
      onForbidden,
    });
  }, [projectId, reloadSoon, start, onForbidden]);

  const changed = useCallback(
    (revision: number) => {
      knownRevision.current = Math.max(knownRevision.current ?? 0, revision);
      reloadSoon();
    },
    [reloadSoon],
  );

  return { project, error, loading, live, version, ready, changed };
}
