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

/** One filter: a labelled choice whose empty value is "all". */
function FilterSelect(props: {
  name: keyof ActivityFilters;
  label: string;
  all: string;
  value: string;
  choices: { id: string; name: string }[];
  onChange: (value: string) => void;
}) {
  return (
    <label>
      <span>{props.label}</span>
      <select name={props.name} aria-label={`Filter by ${props.label.toLowerCase()}`} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="">{props.all}</option>
        {props.choices.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
    </label>
  );
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
        <FilterSelect
          name="type"
          label="Type"
          all="All changes"
          value={filters.type}
          choices={(Object.keys(TYPE_LABEL) as ProjectEventType[]).map((t) => ({ id: t, name: TYPE_LABEL[t] }))}
          onChange={(type) => set({ type: type as ProjectEventType | '' })}
        />
        <FilterSelect name="apiKeyId" label="Key" all="All keys" value={filters.apiKeyId} choices={keys} onChange={(apiKeyId) => set({ apiKeyId })} />
        <FilterSelect
          name="deploymentId"
          label="Deployment"
          all="All deployments"
          value={filters.deploymentId}
          choices={project.deployments.edges.map((e) => e.node)}
          onChange={(deploymentId) => set({ deploymentId })}
        />
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
