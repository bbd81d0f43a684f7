// The project's Usage view: requests and tokens over a chosen range, the totals, the deployments
// and keys that used the most, all kept live from usageUpdates. Top keys are ranked among the
// TOP_KEY_CANDIDATES most recently used keys (a key with usage in the range was used in it).
import { useState } from 'preact/hooks';
import { Empty } from '../components/empty.tsx';
import { RangePicker, UsageCharts, UsageTotals } from '../components/usage-panel.tsx';
import { request } from '../lib/graphql.ts';
import { onLinkClick, paths } from '../lib/router.ts';
import { addInto, addUpdate, type Counts, DEFAULT_RANGE, fillSeries, formatCount, type Series } from '../lib/usage.ts';
import { useLiveUsage } from '../lib/usage-data.ts';
import type { UsageUpdate } from '../lib/usage-live.ts';
import { DeploymentTotalsQuery, KeyTotalsQuery, ProjectUsageQuery } from '../lib/usage-operations.ts';
import type { ProjectData } from '../lib/project-data.ts';

const TOP_KEY_CANDIDATES = 50;
const TOP = 10;

interface Row {
  id: string;
  name: string;
  total: Counts;
}

interface ProjectUsage {
  series: Series;
  deployments: Row[];
  keys: Row[];
}

const addTo = (rows: Row[], id: string | null, u: UsageUpdate) =>
  rows.map((r) => {
    if (r.id !== id) return r;
    const total = { ...r.total };
    addInto(total, u);
    return { ...r, total };
  });

const busiest = (rows: Row[]) =>
  rows
    .filter((r) => r.total.requests + r.total.rejected + r.total.rateLimited > 0)
    .sort((a, b) => b.total.requests - a.total.requests || b.total.rejected - a.total.rejected)
    .slice(0, TOP);

export function Usage(props: { project: ProjectData }) {
  const { project } = props;
  const [range, setRange] = useState(DEFAULT_RANGE);
  const usage = useLiveUsage<ProjectUsage>(project.id, range, project.slug, {
    read: async (from, r) => {
      const variables = { slug: project.slug, from, granularity: r.granularity };
      const [series, deployments, keys] = await Promise.all([
        request(ProjectUsageQuery, variables),
        request(DeploymentTotalsQuery, variables),
        request(KeyTotalsQuery, { ...variables, keys: TOP_KEY_CANDIDATES }),
      ]);
      const usage = series.project?.usage;
      if (!usage) return null;
      const rows = (edges: { node: { id: string; name: string; usage: { total: Counts } } }[] | undefined) => edges?.map(({ node }) => ({ id: node.id, name: node.name, total: node.usage.total })) ?? [];
      return {
        to: usage.to,
        data: {
          series: fillSeries(usage, r.granularity),
          deployments: rows(deployments.project?.deployments.edges),
          keys: rows(keys.project?.apiKeys.edges),
        },
      };
    },
    apply: (data, u) => ({ series: addUpdate(data.series, u.at, u), deployments: addTo(data.deployments, u.deploymentId, u), keys: addTo(data.keys, u.apiKeyId, u) }),
  });
  const data = usage.data;
  return (
    <section class="usage" data-usage="Project">
      <div class="page-head">
        <h1 tabIndex={-1}>Usage</h1>
      </div>
      <div class="toolbar">
        <RangePicker range={range} onChange={setRange} />
        {usage.loading && <span class="muted">Loading…</span>}
      </div>
      {usage.error && <p class="form-error">{usage.error}</p>}
      {data && (
        <>
          <UsageTotals series={data.series} />
          <UsageCharts series={data.series} />
          <TopTable
            title="Top deployments"
            rows={busiest(data.deployments)}
            href={(id) => paths.deployment(project.slug, id, 'usage')}
            none="No deployment had traffic in this range."
          />
          <TopTable title="Top keys" rows={busiest(data.keys)} href={(id) => paths.key(project.slug, id)} none="No key was used in this range." />
        </>
      )}
    </section>
  );
}

function TopTable(props: { title: string; rows: Row[]; href: (id: string) => string; none: string }) {
  return (
    <div class="usage-top">
      <h2>{props.title}</h2>
      {props.rows.length === 0 ? (
        <Empty title={props.none} />
      ) : (
        <table class="cards">
          <thead>
            <tr>
              <th>Name</th>
              <th>Requests</th>
              <th>Errors</th>
              <th>Rejected</th>
              <th>Rate limited</th>
              <th>Tokens</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr key={r.id} data-top={r.name}>
                <td class="name">
                  <a href={props.href(r.id)} onClick={(e) => onLinkClick(e, props.href(r.id))}>
                    {r.name}
                  </a>
                </td>
                <td data-label="Requests">{formatCount(r.total.requests)}</td>
                <td data-label="Errors">{formatCount(r.total.errors)}</td>
                <td data-label="Rejected">{formatCount(r.total.rejected)}</td>
                <td data-label="Rate limited">{formatCount(r.total.rateLimited)}</td>
                <td data-label="Tokens">{formatCount(r.total.promptTokens + r.total.completionTokens)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
