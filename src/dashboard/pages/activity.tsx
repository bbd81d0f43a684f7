// A project's Activity view (docs/api.md, Project.events): who changed what and when, newest first,
// in the viewer's time zone; filtered by type, key and deployment; more on demand; new changes
// appear live (the project's projectEvents stream moves `version`).
import { useEffect, useState } from 'preact/hooks';
import { Empty } from '../components/empty.tsx';
import { LoadMore } from '../components/load-more.tsx';
import type { ProjectEventType } from '../generated/graphql.ts';
import { type ActivityFilters, describeEvent, TYPE_LABEL, useActivity } from '../lib/activity.ts';
import { countLabel, formatDateTime, lastUsedLabel, useNow } from '../lib/format.ts';
import { request } from '../lib/graphql.ts';
import { KeyChoicesQuery } from '../lib/lifecycle-operations.ts';
import type { ProjectData } from '../lib/project-data.ts';

/** The keys the filter offers, read again when the project changes. */
function useKeyChoices(slug: string, version: number) {
  const [keys, setKeys] = useState<{ id: string; name: string }[]>([]);
  useEffect(() => {
    let current = true;
    request(KeyChoicesQuery, { slug }).then(
      (data) => current && setKeys(data.project?.apiKeys.edges.map((e) => e.node) ?? []),
      () => {},
    );
    return () => {
      current = false;
    };
  }, [slug, version]);
  return keys;
}

export function Activity(props: { project: ProjectData; version: number }) {
  const { project } = props;
  const [filters, setFilters] = useState<ActivityFilters>({ type: '', apiKeyId: '', deploymentId: '' });
  const activity = useActivity(project.slug, filters, props.version);
  const keys = useKeyChoices(project.slug, props.version);
  const now = useNow(15_000);
  const set = (patch: Partial<ActivityFilters>) => setFilters((f) => ({ ...f, ...patch }));
  const filtered = filters.type !== '' || filters.apiKeyId !== '' || filters.deploymentId !== '';

  return (
    <section>
      <div class="page-head">
        <h1 tabIndex={-1}>Activity</h1>
      </div>
      <div class="activity-filters">
        <label>
          <span>Type</span>
          <select name="type" aria-label="Filter by type" value={filters.type} onChange={(e) => set({ type: e.currentTarget.value as ProjectEventType | '' })}>
            <option value="">All changes</option>
            {(Object.keys(TYPE_LABEL) as ProjectEventType[]).map((t) => (
              <option key={t} value={t}>
                {TYPE_LABEL[t]}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Key</span>
          <select name="apiKeyId" aria-label="Filter by key" value={filters.apiKeyId} onChange={(e) => set({ apiKeyId: e.currentTarget.value })}>
            <option value="">All keys</option>
            {keys.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Deployment</span>
          <select name="deploymentId" aria-label="Filter by deployment" value={filters.deploymentId} onChange={(e) => set({ deploymentId: e.currentTarget.value })}>
            <option value="">All deployments</option>
            {project.deployments.edges.map(({ node: d }) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <span class="total" role="status" data-total>
          {activity.total === null ? 'Counting…' : countLabel(activity.total, 'change', 'changes')}
        </span>
      </div>
      {activity.error && <p class="form-error">{activity.error}</p>}
      {activity.total === 0 ? (
        <Empty title={filtered ? 'No change matches these filters' : 'No changes yet'}>
          <p>Changes to keys and deployments, by anyone, show here as they happen.</p>
        </Empty>
      ) : (
        <ol class="activity" aria-label="Changes, newest first">
          {activity.events.map((e) => (
            <li key={e.revision} data-event={e.type} data-revision={e.revision}>
              <span class="what">
                <strong>{TYPE_LABEL[e.type]}</strong>: {describeEvent(e)}
              </span>
              <span class="who" data-actor={e.actor ?? ''}>
                by {e.actor ?? 'keygate (expiry)'}
              </span>
              <time dateTime={e.at} title={formatDateTime(e.at)}>
                {lastUsedLabel(e.at, Math.max(now, Date.parse(e.at)))}, {formatDateTime(e.at)}
              </time>
            </li>
          ))}
        </ol>
      )}
      <LoadMore shown={activity.events.length} total={activity.total} loading={activity.loading} hasMore={activity.hasMore} onMore={activity.loadMore} />
    </section>
  );
}
