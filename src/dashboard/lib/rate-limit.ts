// A key's rate limits as the dashboard reads and writes them (docs/api.md, "Rate limits"): the
// list's short label ("600 rpm · 200k tpm"), the dialogs' text fields (empty: no limit) turned into
// RateLimitInput, and what the edit dialog sends (null removes both limits).
import type { RateLimitInput } from '../generated/graphql.ts';
import { ApiError } from './graphql.ts';

export interface Limits {
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
}

export const RATE_LIMIT_FIELDS = ['rateLimit.requestsPerMinute', 'rateLimit.tokensPerMinute'] as const;
const MAX = 10_000_000;

/** 1,200 → "1.2k"; 2,000,000 → "2M". */
export function shortCount(n: number): string {
  const trim = (v: number) => String(Math.round(v * 10) / 10);
  if (n >= 1_000_000) return `${trim(n / 1_000_000)}M`;
  if (n >= 1_000) return `${trim(n / 1_000)}k`;
  return String(n);
}

/** "600 rpm · 200k tpm", "600 rpm", or "—" for no limit. */
export function limitLabel(limit: Limits | null | undefined): string {
  const parts: string[] = [];
  if (limit?.requestsPerMinute != null) parts.push(`${shortCount(limit.requestsPerMinute)} rpm`);
  if (limit?.tokensPerMinute != null) parts.push(`${shortCount(limit.tokensPerMinute)} tpm`);
  return parts.length ? parts.join(' · ') : '—';
}

/** A field's text as a limit: empty is none; the API checks the range, this only what it cannot receive. */
function parseLimit(text: string, field: (typeof RATE_LIMIT_FIELDS)[number]): number | null {
  const value = text.trim().replace(/[,_\s]/g, '');
  if (value === '') return null;
  if (!/^\d+$/.test(value)) throw new ApiError('Enter a whole number, or leave it empty for no limit.', 'BAD_USER_INPUT', field);
  const n = Number(value);
  if (n > MAX) throw new ApiError('The most is 10,000,000 a minute.', 'BAD_USER_INPUT', field);
  return n;
}

/** The two fields' texts as RateLimitInput, or null when both are empty. */
export function rateLimitInput(requests: string, tokens: string): RateLimitInput | null {
  const requestsPerMinute = parseLimit(requests, 'rateLimit.requestsPerMinute');
  const tokensPerMinute = parseLimit(tokens, 'rateLimit.tokensPerMinute');
  return requestsPerMinute === null && tokensPerMinute === null ? null : { requestsPerMinute, tokensPerMinute };
}

/** What updateApiKey gets: omitted when nothing changed, null to remove both, the object otherwise. */
export function rateLimitUpdate(before: Limits | null | undefined, after: RateLimitInput | null): RateLimitInput | null | undefined {
  const same = (before?.requestsPerMinute ?? null) === (after?.requestsPerMinute ?? null) && (before?.tokensPerMinute ?? null) === (after?.tokensPerMinute ?? null);
  return same ? undefined : after;
}

/** A limit as the field's starting text. */
export const limitText = (n: number | null | undefined) => (n == null ? '' : String(n));
