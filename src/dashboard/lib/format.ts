// How dates, expiry and propagation read on the page. Every date is the user's local time.
import { useEffect, useState } from 'preact/hooks';

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const formatDate = (iso: string) => dateFormat.format(new Date(iso));
export const formatDateTime = (iso: string) => dateTimeFormat.format(new Date(iso));

/** An API key's expiry column: a date, "Never" or "Expired". */
export function expiryLabel(key: { expiresAt?: string | null; expired: boolean }): string {
  if (key.expired) return 'Expired';
  return key.expiresAt ? formatDate(key.expiresAt) : 'Never';
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Infinity],
];

/** "3 minutes ago"; "Never" for null. */
export function lastUsedLabel(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'Never';
  let value = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return relative.format(Math.round(value), unit);
    value /= size;
  }
  return formatDate(iso);
}

/** The current time, refreshed every `everyMs`, so relative times ("3 minutes ago") stay true. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export interface PropagationResult {
  revision: number;
  appliedBy: number;
  expected: number;
  confirmed: boolean;
}

/** "applied on 2 of 2 proxies", and what it means when not all have it yet. */
export function propagationLabel(p: PropagationResult): string {
  if (p.expected === 0) return 'Saved. No proxy is running right now; each loads it when it starts.';
  const proxies = `applied on ${p.appliedBy} of ${p.expected} ${p.expected === 1 ? 'proxy' : 'proxies'}`;
  if (p.confirmed) return `Saved: ${proxies}.`;
  return `Saved, ${proxies}: the others catch up within seconds (revision ${p.revision}).`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A date input's value (YYYY-MM-DD) for a moment, in the user's time zone. */
export const localDateValue = (date: Date = new Date()) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;

/** A date input's value (YYYY-MM-DD) as the end of that day in the user's time zone. */
export function endOfDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y!, m! - 1, d!, 23, 59, 59).toISOString();
}

/** "1,051 keys" */
export const countLabel = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
