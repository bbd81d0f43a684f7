// bench/results.json (the issue's keys first, numbers only, then extras) and the Markdown
// Performance table with each target of the issue marked met or missed.
import { round } from './stats.ts';

export type Section = Record<string, number>;
export interface Results {
  proxy: Section;
  streams: Section;
  propagation: Section;
  fleet: Section;
  scale: Section;
  subscriptions: Section;
  usage: Section;
  lifecycle: Section;
  targets: Section;
  [extra: string]: Section;
}

export const REQUIRED = {
  proxy: ['direct_rps', 'bare_node_rps', 'keygate_rps', 'nginx_rps', 'bare_node_cpu_us_per_req', 'keygate_cpu_us_per_req', 'nginx_cpu_us_per_req', 'direct_p99_ms', 'keygate_p99_ms', 'reject_rps', 'p99_added_half_load_ms'],
  streams: ['ttfb_p99_ms_over_bare', 'gap_p99_ms_over_bare', 'cpu_ratio_vs_bare', 'rss_ratio_vs_bare', 'capacity_ratio_vs_bare'],
  propagation: ['rounds', 'mutation_p50_ms', 'mutation_p99_ms', 'apply_p50_ms', 'apply_p99_ms', 'stale_decisions'],
  fleet: ['mutation_p50_ms_2', 'mutation_p99_ms_2', 'mutation_p50_ms_20', 'mutation_p99_ms_20', 'mutation_p50_ms_200', 'mutation_p99_ms_200'],
  scale: ['keys', 'deployments', 'links', 'snapshot_load_ms', 'rss_mb', 'cpu_ratio_vs_small', 'growth_mb_100k_changes', 'list_1000_p95_ms', 'list_1000_sql_queries'],
  subscriptions: ['subscribers', 'delivery_p50_ms', 'delivery_p99_ms'],
  usage: ['cpu_ratio_vs_off', 'flush_p99_ms', 'query_30d_hourly_p95_ms', 'rows_per_day'],
  lifecycle: ['cut_p99_ms', 'cpu_ratio_2000_streams'],
  ratelimit: ['cpu_ratio_vs_off', 'fleet_overshoot_pct', 'redis_ops_per_request'],
} as const;

/** Issue 18's targets by key (section.key): written to results.json under `targets` and judged in
 *  the table. `at most` / `at least`; the figure each is judged on is the key's own. */
export const TARGETS: { key: string; at: 'most' | 'least'; value: number; target: string; unit: string; issue?: number; zeroIsAFigure?: boolean }[] = [
  { key: 'streams.ttfb_p99_ms_over_bare', at: 'most', value: 1, target: 'streams: TTFB p99, keygate − bare Node ≤ 1 ms', unit: ' ms' },
  { key: 'streams.gap_p99_ms_over_bare', at: 'most', value: 1, target: 'streams: inter-chunk gap p99, keygate − bare Node ≤ 1 ms', unit: ' ms' },
  { key: 'streams.cpu_ratio_vs_bare', at: 'most', value: 1.2, target: 'streams: proxy CPU per chunk ≤ 1.2× bare Node', unit: '×' },
  { key: 'streams.rss_ratio_vs_bare', at: 'most', value: 1.2, target: 'streams: proxy RSS per open stream ≤ 1.2× bare Node', unit: '×' },
  { key: 'streams.capacity_ratio_vs_bare', at: 'least', value: 0.8, target: 'streams: open streams within 10 ms of direct ≥ 0.8× bare Node', unit: '×' },
  { key: 'proxy.p99_added_half_load_ms', at: 'most', value: 5, target: "p99 added over direct at half keygate's own maximum ≤ 5 ms", unit: ' ms' },
  { key: 'scale.keys', at: 'least', value: 1_000_000, target: 'scale: 1,000,000 keys', unit: '' },
  { key: 'scale.deployments', at: 'least', value: 100_000, target: 'scale: 100,000 deployments', unit: '' },
  { key: 'scale.links', at: 'least', value: 2_000_000, target: 'scale: 2,000,000 links', unit: '' },
  { key: 'scale.snapshot_load_ms', at: 'most', value: 10_000, target: 'scale: snapshot load ≤ 10 s', unit: ' ms' },
  { key: 'scale.rss_mb', at: 'most', value: 700, target: 'scale: proxy RSS once ready ≤ 700 MB', unit: ' MB' },
  { key: 'scale.cpu_ratio_vs_small', at: 'most', value: 1.05, target: 'scale: CPU/request ≤ 1.05× the 10-key table', unit: '×' },
  { key: 'scale.growth_mb_100k_changes', at: 'most', value: 32, target: 'scale: RSS growth over 100,000 link/unlink changes flat (≤ 32 MB)', unit: ' MB' },
  { key: 'scale.list_1000_p95_ms', at: 'most', value: 50, target: 'scale: 1,000-key GraphQL list p95 ≤ 50 ms', unit: ' ms' },
  { key: 'fleet.mutation_p99_ms_200', at: 'most', value: 50, target: 'fleet: mutation with confirmation p99 ≤ 50 ms at 200 proxies', unit: ' ms' },
  { key: 'lifecycle.cut_p99_ms', at: 'most', value: 100, target: 'lifecycle: unlink start → last of 1,000 open streams (two proxies) ended, p99 ≤ 100 ms', unit: ' ms', issue: 14 },
  { key: 'lifecycle.cpu_ratio_2000_streams', at: 'most', value: 1.05, target: 'lifecycle: proxy CPU/short request with 2,000 idle streams open ≤ 1.05× none open', unit: '×', issue: 14 },
  { key: 'ratelimit.cpu_ratio_vs_off', at: 'most', value: 1.05, target: 'rate limits: proxy CPU/request for a limited key ≤ 1.05× an unlimited one', unit: '×', issue: 13 },
  { key: 'ratelimit.fleet_overshoot_pct', at: 'most', value: 10, target: 'rate limits: two proxies at 3× the limit overshoot it by ≤ 10 %', unit: ' %', issue: 13, zeroIsAFigure: true },
  { key: 'ratelimit.redis_ops_per_request', at: 'most', value: 0.1, target: 'rate limits: Redis commands per request ≤ 0.1', unit: '', issue: 13 },
];

/** Required keys first (0 when a section failed), extras after; every value a finite number. */
export function normalize(raw: Partial<Record<string, Section>>): Results {
  const out: Record<string, Section> = {};
  for (const [section, keys] of Object.entries(REQUIRED)) {
    const given = raw[section] ?? {};
    const s: Section = {};
    for (const k of keys) s[k] = round(given[k] ?? 0);
    for (const [k, v] of Object.entries(given)) if (!(k in s) && typeof v === 'number') s[k] = round(v);
    out[section] = s;
  }
  out.targets = Object.fromEntries(TARGETS.map((t) => [t.key, t.value]));
  for (const [section, given] of Object.entries(raw)) {
    if (section in out || !given) continue;
    out[section] = Object.fromEntries(Object.entries(given).filter(([, v]) => typeof v === 'number').map(([k, v]) => [k, round(v)]));
  }
  return out as Results;
}

const n = (v: number | undefined, digits = 0) => (v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const x = (v: number | undefined) => (v ? `${v.toFixed(2)}×` : '—');

export interface Verdict {
  target: string;
  figure: string;
  met: boolean | null;
}

/** Each target of the issue with its figure; null when the section did not run. */
export function verdicts(r: Results, ran: Record<string, boolean>): Verdict[] {
  const p = r.proxy;
  const g = r.propagation;
  const s = r.scale;
  const sub = r.subscriptions;
  const u = r.usage;
  const on = (section: string, ok: boolean) => (ran[section] ? ok : null);
  const added = p.keygate_p99_ms! - p.direct_p99_ms!;
  return [
    // Ratios taken within each round (the two runs minutes apart at most), median over rounds.
    { target: 'keygate ≥ 0.9× bare Node throughput', figure: x(p.keygate_vs_bare_rps_median_of_rounds), met: on('proxy', p.keygate_vs_bare_rps_median_of_rounds! >= 0.9) },
    { target: 'keygate ≤ 1.15× bare Node CPU/request', figure: x(p.keygate_vs_bare_cpu_median_of_rounds), met: on('proxy', p.keygate_vs_bare_cpu_median_of_rounds! <= 1.15 && p.keygate_vs_bare_cpu_median_of_rounds! > 0) },
    { target: 'p99 added over direct ≤ 3 ms at the fixed rate', figure: `${n(added, 2)} ms`, met: on('proxy', added <= 3) },
    { target: '401 throughput ≥ accepted throughput', figure: x(p.reject_rps! / p.keygate_rps!), met: on('proxy', p.reject_rps! >= p.keygate_rps!) },
    { target: 'mutation with confirmation p99 ≤ 25 ms', figure: `${n(g.mutation_p99_ms, 1)} ms`, met: on('propagation', g.mutation_p99_ms! <= 25 && g.mutation_p99_ms! > 0) },
    { target: 'event-to-applied p99 ≤ 5 ms', figure: `${n(g.apply_p99_ms, 2)} ms`, met: on('propagation', g.apply_p99_ms! <= 5 && g.apply_p99_ms! > 0) },
    { target: '0 stale decisions', figure: `${n(g.stale_decisions)} of ${n(g.decisions)}`, met: on('propagation', g.stale_decisions === 0 && (g.decisions ?? 0) > 0) },
    { target: '1,000-key list in ≤ 4 SQL queries', figure: n(s.list_1000_sql_queries), met: on('scale', s.list_1000_sql_queries! <= 4 && s.list_1000_sql_queries! > 0) },
    { target: '1,000-subscriber delivery p99 ≤ 100 ms', figure: `${n(sub.delivery_p99_ms, 1)} ms`, met: on('subscriptions', sub.delivery_p99_ms! <= 100 && sub.delivery_p99_ms! > 0) },
    { target: 'usage metering: proxy CPU/request ≤ 1.05× metering off (issue 12)', figure: x(u.cpu_ratio_vs_off), met: on('usage', u.cpu_ratio_vs_off! <= 1.05 && u.cpu_ratio_vs_off! > 0) },
    { target: '30-day hourly usage of a key p95 ≤ 50 ms (issue 12)', figure: `${n(u.query_30d_hourly_p95_ms, 1)} ms`, met: on('usage', u.query_30d_hourly_p95_ms! <= 50 && u.query_30d_hourly_p95_ms! > 0) },
    ...TARGETS.map((t): Verdict => {
      const [section, key] = t.key.split('.') as [string, string];
      const v = r[section]?.[key] ?? 0;
      // A figure of 0 for an at-most target means the part did not produce it (a difference may be negative).
      const produced = (t.unit === ' ms' && t.key.endsWith('_over_bare')) || t.zeroIsAFigure ? ran[section] === true : v !== 0;
      const met = produced && (t.at === 'most' ? v <= t.value : v >= t.value);
      return { target: `${t.target} (issue ${t.issue ?? 18})`, figure: t.unit === '×' ? x(v) : `${n(v, Math.abs(v) < 100 ? 2 : 0)}${t.unit}`, met: on(section, met) };
    }),
  ];
}

export function markdown(r: Results, ran: Record<string, boolean>, context: { command: string; quick: boolean; machine: string; date: string; notes: string[] }): string {
  const p = r.proxy;
  const g = r.propagation;
  const s = r.scale;
  const sub = r.subscriptions;
  const lines: string[] = [];
  lines.push(`### Performance${context.quick ? ' (quick run: fewer rounds, shorter runs; not for the record)' : ''}`, '');
  lines.push(`Measured ${context.date} on ${context.machine}, all on 127.0.0.1, with \`${context.command}\`.`, '');
  if (ran.proxy) {
    lines.push(
      `**Proxy overhead** — medians over the runs other processes left alone; one upstream (node:http, ~400 B chat-completion JSON), POST with a JSON body and X-API-Key, ${n(p.connections)} connections; closed loop: wrk, ${n(p.closed_loop_seconds)} s per run; fixed rate: open loop at ${n(p.fixed_rate_rps)} req/s (half the bare proxy's maximum), ${n(p.open_loop_seconds)} s per run; medians of ${n(p.rounds)} interleaved round(s).`,
      '',
      '| | max req/s | CPU µs/req (proxy process) | p50 @ fixed rate | p99 @ fixed rate |',
      '|---|---:|---:|---:|---:|',
      `| direct to the upstream | ${n(p.direct_rps)} | (upstream ${n(p.upstream_cpu_us_per_req, 1)}) | ${n(p.direct_p50_ms, 2)} ms | ${n(p.direct_p99_ms, 2)} ms |`,
      `| bare Node proxy (bench/reference-proxy.ts) | ${n(p.bare_node_rps)} | ${n(p.bare_node_cpu_us_per_req, 1)} | ${n(p.bare_node_p50_ms, 2)} ms | ${n(p.bare_node_p99_ms, 2)} ms |`,
      `| **keygate proxy** (full path) | **${n(p.keygate_rps)}** | **${n(p.keygate_cpu_us_per_req, 1)}** | **${n(p.keygate_p50_ms, 2)} ms** | **${n(p.keygate_p99_ms, 2)} ms** |`,
      `| nginx, 1 worker, keep-alive upstream | ${n(p.nginx_rps)} | ${n(p.nginx_cpu_us_per_req, 1)} | ${n(p.nginx_p50_ms, 2)} ms | ${n(p.nginx_p99_ms, 2)} ms |`,
      `| keygate, 401 (well-formed unknown key) | ${n(p.reject_rps)} | ${n(p.reject_cpu_us_per_req, 1)} | | |`,
      `| bare Node proxy, 401 | ${n(p.bare_node_reject_rps)} | ${n(p.bare_node_reject_cpu_us_per_req, 1)} | | |`,
      '',
      ...(p.keygate_p99_at_half_own_max_ms
        ? [
            `At ${n(p.keygate_half_own_max_rps)} req/s (half keygate's own maximum, a load it can carry): keygate p50 ${n(p.keygate_p50_at_half_own_max_ms, 2)} ms, p99 ${n(p.keygate_p99_at_half_own_max_ms, 2)} ms; direct p99 ${n(p.direct_p99_at_half_keygate_max_ms, 2)} ms.`,
            '',
          ]
        : []),
      `Ratios (of the medians; within-round medians in parentheses): keygate / bare Node — throughput ${x(p.keygate_vs_bare_rps)} (${x(p.keygate_vs_bare_rps_median_of_rounds)}), CPU per request ${x(p.keygate_vs_bare_cpu)} (${x(p.keygate_vs_bare_cpu_median_of_rounds)}); keygate / nginx — throughput ${x(p.keygate_vs_nginx_rps)}, CPU per request ${x(p.keygate_vs_nginx_cpu)} (${x(p.keygate_vs_nginx_cpu_median_of_rounds)}); keygate p99 added over direct at the fixed rate: ${n(p.keygate_p99_added_ms, 2)} ms; 401 / accepted throughput ${x(p.reject_vs_accepted_rps)}. Other processes used ${n(p.proxy_core_used_by_others_pct)}% of the proxy core during the closed-loop runs (median); ${n(p.runs_left_out_for_interference)} run(s) left out of the medians for that.`,
      '',
    );
  }
  const st = r.streams;
  if (ran.streams) {
    const row = (label: string, t: string) =>
      `| ${label} | ${n(st[`${t}_ttfb_p50_ms`], 1)} / ${n(st[`${t}_ttfb_p99_ms`], 1)} ms | ${n(st[`${t}_gap_p50_ms`], 1)} / ${n(st[`${t}_gap_p99_ms`], 1)} ms | ${t === 'direct' ? `(upstream ${n(st[`${t}_cpu_us_per_chunk`], 1)})` : n(st[`${t}_cpu_us_per_chunk`], 1)} | ${t === 'direct' ? '' : n(st[`${t}_rss_kb_per_stream`], 1)} | ${t === 'direct' ? '' : `${n(st[`${t}_capacity_streams`])}`} |`;
    lines.push(
      `**Streams** — ${n(st.streams)} concurrent SSE streams (first chunk after 50 ms, then 4 a second, ${n(st.chunks_per_stream)} chunks), started over 1 s, through each target in turn; medians of ${n(st.rounds)} interleaved round(s). Capacity: open streams stepped up to ${n(st.capacity_steps_max)}, the last step at which the target's TTFB p99 and steady-state gap p99 stay within 10 ms of direct's (0: not even the first step).`,
      '',
      '| | TTFB p50 / p99 | inter-chunk gap p50 / p99 | CPU µs/chunk | RSS kB/open stream | capacity (streams) |',
      '|---|---:|---:|---:|---:|---:|',
      row('direct to the upstream', 'direct'),
      row('bare Node proxy', 'bare'),
      row('**keygate proxy**', 'keygate'),
      ...(st.nginx_ttfb_p99_ms ? [row('nginx, 1 worker', 'nginx')] : []),
      '',
      `keygate − bare Node: TTFB p99 ${n(st.ttfb_p99_ms_over_bare, 2)} ms, gap p99 ${n(st.gap_p99_ms_over_bare, 2)} ms; keygate / bare Node: CPU per chunk ${x(st.cpu_ratio_vs_bare)}, RSS per stream ${x(st.rss_ratio_vs_bare)}, capacity ${x(st.capacity_ratio_vs_bare)}.`,
      '',
    );
  }
  if (ran.propagation) {
    lines.push(
      `**Propagation** — ${n(g.rounds)} link/unlink mutations, one control plane and two proxies on Redis: mutation with confirmation p50 ${n(g.mutation_p50_ms, 1)} ms, p99 ${n(g.mutation_p99_ms, 1)} ms (${n(g.unconfirmed_mutations)} unconfirmed); event-to-applied (event on Redis → the fleet floor's announcement that both proxies applied it, seen by one observer) p50/p99 ${n(g.apply_p50_ms, 2)}/${n(g.apply_p99_ms, 2)} ms; stale decisions right after each mutation returned: ${n(g.stale_decisions)} of ${n(g.decisions)}.`,
      '',
    );
  }
  const f = r.fleet;
  if (ran.fleet) {
    const kind = (size: number) => (f[`real_processes_${size}`] ? 'proxy processes' : 'lightweight consumers');
    lines.push(
      `**Fleet** — mutation with confirmation (${n(f.rounds)} link/unlink mutations per size) with N live proxies, each holding its own lease and acking (acks aggregated into the fleet's floor, one announcement heard per change): ${[2, 20, 200]
        .map((size) => `${size} ${kind(size)}: p50 ${n(f[`mutation_p50_ms_${size}`], 1)} ms, p99 ${n(f[`mutation_p99_ms_${size}`], 1)} ms (request → event ${n(f[`request_to_event_p50_ms_${size}`], 1)} + event → last ack ${n(f[`event_to_last_ack_p50_ms_${size}`], 1)} + last ack → answer ${n(f[`last_ack_to_answer_p50_ms_${size}`], 1)} ms, p50s; ${n(f[`unconfirmed_${size}`])} unconfirmed; ${n(f[`fleet_messages_per_mutation_${size}`], 2)} fleet messages per mutation)`)
        .join('; ')}. All members share this machine's two cores.`,
      '',
    );
  }
  if (ran.scale) {
    lines.push(
      `**Scale** — ${n(s.keys)} keys (seeded with COPY in ${n(s.seed_seconds, 1)} s), ${n(s.deployments)} deployments, ${n(s.links)} links: proxy snapshot load ${n(s.snapshot_load_ms)} ms, RSS ${n(s.rss_mb)} MB once ready (10-key proxy: ${n(s.small_rss_mb)} MB); CPU per request ${n(s.cpu_us_per_req_100k, 1)} µs vs ${n(s.cpu_us_per_req_10, 1)} µs on a 10-key table (${x(s.cpu_ratio_vs_small)}; within-round median ${x(s.cpu_ratio_vs_small_median_of_rounds)}; the 100k table with the 10-key traffic: ${n(s.cpu_us_per_req_100k_10_pairs, 1)} µs; others used ${n(s.proxy_core_used_by_others_pct)}% of the proxy core); RSS growth over ${n(s.changes)} link/unlink changes through the change log and the feed ${n(s.growth_mb_100k_changes, 1)} MB (second half ${n(s.growth_mb_second_half, 1)} MB, ${n(s.changes_seconds, 1)} s); the 1,000-key GraphQL list (each key with its deployments) after a change p95 ${n(s.list_1000_p95_ms, 1)} ms (p50 ${n(s.list_1000_p50_ms, 1)} ms, ${n(s.list_1000_cpu_ms, 1)} ms CPU of server and client per run), repeated with nothing changed (the response cache) p95 ${n(s.list_1000_repeated_p95_ms, 1)} ms (p50 ${n(s.list_1000_repeated_p50_ms, 1)} ms) over ${n(s.list_1000_runs)} runs each, ${n(s.list_1000_sql_queries)} SQL statements and ${n(s.list_1000_head_reads)} head read of the response cache.`,
      '',
    );
  }
  lines.push(
    ran.subscriptions
      ? `**Subscriptions** — ${n(sub.subscribers)} graphql-ws subscribers on one control plane, one mutation: delivery p50 ${n(sub.delivery_p50_ms, 1)} ms, p99 ${n(sub.delivery_p99_ms, 1)} ms.`
      : '**Subscriptions** — not measured in this run (see notes).',
    '',
  );
  if (ran.usage) {
    const u = r.usage;
    lines.push(
      `**Usage metering** — proxy CPU per request with metering on ÷ off: JSON ${x(u.cpu_ratio_json)} (${n(u.cpu_us_per_req_json_on, 1)} vs ${n(u.cpu_us_per_req_json_off, 1)} µs), SSE ${x(u.cpu_ratio_sse)} (${n(u.cpu_us_per_req_sse_on, 1)} vs ${n(u.cpu_us_per_req_sse_off, 1)} µs), medians of ${n(u.cpu_rounds)} interleaved rounds; a flush of ${n(u.flush_rows)} (key, deployment) rows p50 ${n(u.flush_p50_ms)} ms, p99 ${n(u.flush_p99_ms)} ms; ${n(u.rows_per_day)} rows/day at 1,000 keys × 10 deployments all active every minute (~${n(u.bytes_per_row)} B/row with indexes); a key's 30-day hourly series p95 ${n(u.query_30d_hourly_p95_ms, 1)} ms; the usage tap's own CPU per response: JSON ${n(u.tap_ns_per_json_response)} ns, SSE ${n(u.tap_ns_per_sse_response)} ns, a 40-chunk stream ${n(u.tap_ns_per_40_chunk_stream)} ns.`,
      '',
    );
  }
  if (ran.lifecycle) {
    const l = r.lifecycle;
    lines.push(
      `**Cutting requests in flight** — unlinkApiKey with ${n(l.cut_streams)} open streams of the key on two proxies: the last stream ended ${n(l.cut_last_median_ms, 1)} ms after the mutation started (median of ${n(l.cut_rounds)} rounds; p99 ${n(l.cut_p99_ms, 1)} ms), per stream p50 ${n(l.cut_stream_p50_ms, 1)} ms, p99 ${n(l.cut_stream_p99_ms, 1)} ms; the mutation itself ${n(l.cut_mutation_median_ms, 1)} ms. Proxy CPU per short request with 2,000 idle streams open ÷ none: ${x(l.cpu_ratio_2000_streams)} (${n(l.cpu_us_per_req_2000_streams, 1)} vs ${n(l.cpu_us_per_req_no_streams, 1)} µs, median of ${n(l.cpu_rounds)} interleaved rounds).`,
      '',
    );
  }
  if (ran.ratelimit) {
    const l = r.ratelimit!;
    lines.push(
      `**Rate limits** — proxy CPU per request for a limited key ÷ an unlimited one ${x(l.cpu_ratio_vs_off)} (${n(l.cpu_us_per_req_limited, 1)} vs ${n(l.cpu_us_per_req_unlimited, 1)} µs, median of ${n(l.cpu_rounds)} interleaved rounds); two proxies fed alternately at 3× a limit of ${n(l.fleet_limit)} per ${n(l.fleet_window_s)} s window: at most ${n(l.fleet_most_in_window)} passed in any window (${n(l.fleet_overshoot_pct, 2)} % over), ${n(l.steady_pass_pct, 1)} % of the limit in the first window; ${n(l.redis_ops_per_request, 4)} Redis commands per request.`,
      '',
    );
  }
  lines.push(
    'Targets: ratios are taken within each round and the median over rounds is shown; runs during which other processes took more than 25% of the proxy core are left out of every median when cleaner runs of the same kind exist.',
    '',
  );
  lines.push('| target | figure | met |', '|---|---:|:---:|');
  for (const v of verdicts(r, ran)) lines.push(`| ${v.target} | ${v.figure} | ${v.met === null ? 'not run' : v.met ? 'met' : '**missed**'} |`);
  lines.push('');
  for (const note of context.notes) lines.push(`- ${note}`);
  if (context.notes.length) lines.push('');
  return lines.join('\n');
}
