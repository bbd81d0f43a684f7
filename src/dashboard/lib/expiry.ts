// How a key's expiry reads once it is near (docs/api.md, ApiKey.expiresSoon): "expires in 2 days"
// in a warning style, and the deployments such a key opens carry a warning too.
import { formatDate, lastUsedLabel } from './format.ts';

export interface KeyExpiry {
  expiresAt?: string | null;
  expired: boolean;
  expiresSoon?: boolean | null;
}

/** "Expired", "expires in 2 days" (inside the warning window), a date, or "Never". */
export function expiryText(key: KeyExpiry, now = Date.now()): string {
  if (key.expired) return 'Expired';
  if (!key.expiresAt) return 'Never';
  if (key.expiresSoon) return `expires ${lastUsedLabel(key.expiresAt, now)}`;
  return formatDate(key.expiresAt);
}

/** The class an expiry cell takes: expired (danger) or expiring (warning). */
export const expiryClass = (key: KeyExpiry) => (key.expired ? 'expired' : key.expiresSoon ? 'expiring' : undefined);

/** The linked keys of a deployment that will stop opening it soon. */
export const expiringKeys = <K extends KeyExpiry & { name: string }>(keys: K[]) => keys.filter((k) => k.expiresSoon && !k.expired);

/** "Key ci-bot expires in 2 days: requests with it will get 401 then." */
export function expiringWarning(keys: (KeyExpiry & { name: string })[], now = Date.now()): string | null {
  const soon = expiringKeys(keys);
  if (soon.length === 0) return null;
  const list = soon.map((k) => `${k.name} ${expiryText(k, now)}`).join('; ');
  return `${soon.length === 1 ? 'A linked key expires soon' : `${soon.length} linked keys expire soon`} (${list}): requests with ${soon.length === 1 ? 'it' : 'them'} will get 401 then.`;
}
