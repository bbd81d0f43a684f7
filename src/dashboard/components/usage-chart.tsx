// One usage chart, drawn by uPlot (loaded with the usage views only: lazy.tsx). Times
// on the axis and in the hover readout are the viewer's local time; colours follow the page's
// light or dark scheme (CSS variables, read again when the scheme changes); the width follows the
// container. The canvas is an image to assistive technology, labelled with the chart's totals.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type CountName, formatCompact, formatCount, type Series } from '../lib/usage.ts';

export interface ChartLine {
  name: CountName;
  label: string;
  /** a CSS variable holding the line's colour, e.g. --chart-requests */
  color: string;
  fill?: boolean;
}

export interface UsageChartProps {
  title: string;
  series: Series;
  lines: ChartLine[];
}

const HEIGHT = 200;
const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** The series as uPlot's columns: x in seconds, then one column per line. */
const columns = (series: Series, lines: ChartLine[]): uPlot.AlignedData => [
  series.starts.map((t) => t / 1000),
  ...lines.map((l) => series.counts.map((c) => c[l.name])),
];

function options(width: number, lines: ChartLine[], onHover: (idx: number | null) => void): uPlot.Options {
  const muted = cssVar('--muted');
  const grid = { stroke: cssVar('--line'), width: 1 };
  const axis = { stroke: muted, grid, ticks: grid, font: '12px system-ui, sans-serif' };
  return {
    width,
    height: HEIGHT,
    legend: { show: false },
    cursor: { y: false, points: { size: 6 } },
    scales: { y: { range: (_u, _min, max) => [0, Math.max(max, 1) * 1.1] } },
    axes: [axis, { ...axis, size: 48, values: (_u, splits) => splits.map(formatCompact) }],
    series: [
      {},
      ...lines.map((l) => ({ label: l.label, stroke: cssVar(l.color), width: 2, fill: l.fill ? `${cssVar(l.color)}22` : undefined, points: { show: false } })),
    ],
    hooks: { setCursor: [(u) => onHover(u.cursor.idx ?? null)] },
  };
}

export function UsageChart(props: UsageChartProps) {
  const { series, lines } = props;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const [scheme, setScheme] = useState(0);
  const linesKey = lines.map((l) => l.name).join();

  // the scheme changed (light/dark): draw again with its colours
  useEffect(() => {
    const media = matchMedia('(prefers-color-scheme: dark)');
    const changed = () => setScheme((n) => n + 1);
    media.addEventListener('change', changed);
    return () => media.removeEventListener('change', changed);
  }, []);

  useEffect(() => {
    const el = box.current!;
    const chart = new uPlot(options(el.clientWidth || 300, lines, setHover), columns(series, lines), el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: el.clientWidth || 300, height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [scheme, linesKey]);

  useEffect(() => {
    plot.current?.setData(columns(series, lines));
  }, [series]);

  const totals = lines.map((l) => `${formatCount(series.total[l.name])} ${l.label.toLowerCase()}`).join(', ');
  const at = hover !== null ? series.starts[hover] : undefined;
  const when = (t: number) => (series.granularity === 'DAY' ? dayFormat.format(t) : timeFormat.format(t));
  return (
    <figure class="usage-chart" data-chart={props.title}>
      <figcaption>
        <span class="chart-title">{props.title}</span>
        <span class="chart-readout" aria-hidden="true">
          {at !== undefined
            ? `${when(at)}: ${lines.map((l) => `${formatCount(series.counts[hover!]![l.name])} ${l.label.toLowerCase()}`).join(', ')}`
            : '\u00a0'}
        </span>
      </figcaption>
      <div class="chart-canvas" ref={box} role="img" aria-label={`${props.title}: ${totals} in total`} />
      <ul class="chart-legend">
        {lines.map((l) => (
          <li key={l.name} data-line={l.name}>
            <span class={`swatch ${l.color.slice(2)}`} aria-hidden="true" />
            {l.label} <strong>{formatCount(series.total[l.name])}</strong>
          </li>
        ))}
      </ul>
    </figure>
  );
}
