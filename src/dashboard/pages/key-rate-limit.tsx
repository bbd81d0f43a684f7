// The key page's rate limit panel: each limit with the key's use of it in the current window
// (requests x / limit, tokens y / limit, a bar, "resets in N s"). The use is fleet-wide and
// approximate (docs/api.md, "Rate limits"), so it is read again every few seconds while the page is
// open, and when the project changes (a limit edited elsewhere).
import { useEffect, useState } from 'preact/hooks';
import type { DashboardKeyRateLimitQuery } from '../generated/graphql.ts';
import { request } from '../lib/graphql.ts';
import { KeyRateLimitQuery } from '../lib/rate-limit-operations.ts';
import { useNow } from '../lib/format.ts';

type Limited = Extract<NonNullable<DashboardKeyRateLimitQuery['node']>, { rateLimit?: unknown }>;
export const RATE_LIMIT_REFRESH_MS = 3_000;

function Use(props: { label: string; kind: string; used: number; limit: number }) {
  const share = Math.min(1, props.used / props.limit);
  return (
    <div class="limit-use" data-limit-use={props.kind}>
      <div class="limit-text">
        <span>{props.label}</span>
        <span data-used>
          {props.used.toLocaleString('en-US')} / {props.limit.toLocaleString('en-US')}
        </span>
      </div>
      <div class={`limit-bar${share >= 1 ? ' full' : ''}`} aria-hidden="true">
        <span style={{ width: `${share * 100}%` }} />
      </div>
    </div>
  );
}

export function KeyRateLimit(props: { id: string; version: number }) {
  const [key, setKey] = useState<Limited | null>(null);
  const now = useNow(1_000);
  useEffect(() => {
    let current = true;
    const read = () =>
      request(KeyRateLimitQuery, { id: props.id }).then(
        (data) => {
          if (current) setKey(data.node && 'rateLimit' in data.node ? (data.node as Limited) : null);
        },
        () => {}, // the page around shows the key's own read errors; the next read tries again
      );
    read();
    const timer = setInterval(read, RATE_LIMIT_REFRESH_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [props.id, props.version]);
  if (!key) return null;
  const limit = key.rateLimit;
  const usage = key.rateLimitUsage;
  if (!limit) {
    return (
      <p class="muted rate-limit-none" data-rate-limit="none">
        No rate limit. Edit the key on the API Keys page to set one.
      </p>
    );
  }
  const resetsIn = usage ? Math.max(0, Math.ceil((new Date(usage.resetsAt).getTime() - now) / 1000)) : 0;
  return (
    <section class="rate-limit-use" aria-labelledby="rate-limit-heading" data-rate-limit>
      <h2 id="rate-limit-heading">Rate limit, this minute</h2>
      {limit.requestsPerMinute != null && <Use label="Requests" kind="requests" used={usage?.requests ?? 0} limit={limit.requestsPerMinute} />}
      {limit.tokensPerMinute != null && <Use label="Tokens" kind="tokens" used={usage?.tokens ?? 0} limit={limit.tokensPerMinute} />}
      <p class="hint" data-resets>
        {usage && (usage.requests > 0 || usage.tokens > 0) ? `Resets in ${resetsIn} s. ` : ''}Approximate, across all proxies.
      </p>
    </section>
  );
}
