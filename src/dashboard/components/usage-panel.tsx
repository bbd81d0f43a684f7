// The parts every usage view shows: the range picker, the totals, and the requests and tokens
// charts. UsageSection puts them together for one key or one deployment, kept live. Loaded on
// first use with uPlot (lazy.tsx).
import { useState } from 'preact/hooks';
import { request } from '../lib/graphql.ts';
import { addUpdate, BUCKET_NAME, COUNT_NAMES, type CountName, DEFAULT_RANGE, fillSeries, formatCount, RANGES, type Series, type UsageRange } from '../lib/usage.ts';
import { useLiveUsage } from '../lib/usage-data.ts';
import type { UsageUpdate } from '../lib/usage-live.ts';
import { NodeUsageQuery } from '../lib/usage-operations.ts';
import { type ChartLine, UsageChart } from './usage-chart.tsx';

const REQUEST_LINES: ChartLine[] = [
  { name: 'requests', label: 'Requests', color: '--chart-requests', fill: true },
  { name: 'errors', label: 'Errors', color: '--chart-errors' },
  { name: 'rejected', label: 'Rejected', color: '--chart-rejected' },
  { name: 'rateLimited', label: 'Rate limited', color: '--chart-limited' },
];
const TOKEN_LINES: ChartLine[] = [
  { name: 'promptTokens', label: 'Prompt tokens', color: '--chart-prompt', fill: true },
  { name: 'completionTokens', label: 'Completion tokens', color: '--chart-completion', fill: true },
];

export const COUNT_LABEL: Record<CountName, string> = {
  requests: 'Requests',
  errors: 'Errors',
  rejected: 'Rejected (401)',
  rateLimited: 'Rate limited (429)',
  promptTokens: 'Prompt tokens',
  completionTokens: 'Completion tokens',
};

export function RangePicker(props: { range: UsageRange; onChange: (range: UsageRange) => void }) {
  return (
    <label class="order usage-range">
      <span>Range</span>
      <select value={props.range.id} onChange={(e) => props.onChange(RANGES.find((r) => r.id === e.currentTarget.value) ?? DEFAULT_RANGE)}>
        {RANGES.map((r) => (
          <option key={r.id} value={r.id}>
            {r.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function UsageTotals(props: { series: Series }) {
  return (
    <dl class="usage-totals" aria-label="Totals">
      {COUNT_NAMES.map((name) => (
        <div key={name} data-count={name}>
          <dt>{COUNT_LABEL[name]}</dt>
          <dd>{formatCount(props.series.total[name])}</dd>
        </div>
      ))}
    </dl>
  );
}

export function UsageCharts(props: { series: Series }) {
  const per = BUCKET_NAME[props.series.granularity];
  return (
    <div class="usage-charts">
      <UsageChart title={`Requests per ${per}`} series={props.series} lines={REQUEST_LINES} />
      <UsageChart title={`Tokens per ${per}`} series={props.series} lines={TOKEN_LINES} />
    </div>
  );
}

/** One key's or one deployment's usage, live: `matches` picks the updates that count for it. */
export function UsageSection(props: { projectId: string | null; id: string; kind: 'ApiKey' | 'Deployment'; heading?: string }) {
  const [range, setRange] = useState(DEFAULT_RANGE);
  const matches = (u: UsageUpdate) => (props.kind === 'ApiKey' ? u.apiKeyId === props.id : u.deploymentId === props.id);
  const usage = useLiveUsage<Series>(props.projectId, range, props.id, {
    read: async (from, r) => {
      const { node } = await request(NodeUsageQuery, { id: props.id, from, granularity: r.granularity });
      const api = node && 'usage' in node ? node.usage : null;
      return api ? { data: fillSeries(api, r.granularity), to: api.to } : null;
    },
    apply: (series, u) => (matches(u) ? addUpdate(series, u.at, u) : series),
  });
  return (
    <section class="usage" aria-label={props.heading ?? 'Usage'} data-usage={props.kind}>
      <div class="toolbar">
        {props.heading && <h2>{props.heading}</h2>}
        <RangePicker range={range} onChange={setRange} />
        {usage.loading && <span class="muted">Loading…</span>}
      </div>
      {usage.error && <p class="form-error">{usage.error}</p>}
      {usage.data && (
        <>
          <UsageTotals series={usage.data} />
          <UsageCharts series={usage.data} />
        </>
      )}
    </section>
  );
}
