// Which addresses the proxy may connect to as upstreams. Link-local and cloud metadata addresses
// are refused unless KEYGATE_UPSTREAM_ALLOW lists them; KEYGATE_UPSTREAM_DENY adds more. Checked
// when a connection is made (the keep-alive agents' lookup), so a hostname that resolves to a
// refused address is refused as well, whenever DNS answers that.
import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Always refused unless allowed: where instance credentials live. */
export const DEFAULT_REFUSED = ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128'];

export const UPSTREAM_REFUSED = 'KEYGATE_UPSTREAM_REFUSED';

export interface UpstreamPolicy {
  isRefused(address: string): boolean;
  /** the refused address an upstream URL's host is or resolves to now; null when none */
  refusedTarget(url: string): Promise<string | null>;
  /** dns.lookup that drops refused addresses and fails when none is left */
  lookup: LookupFunction;
  /** the error a refused connection fails with (code UPSTREAM_REFUSED) */
  refusal(host: string, address: string): NodeJS.ErrnoException;
}

export function createUpstreamPolicy(rules: { allow: readonly string[]; deny: readonly string[] }): UpstreamPolicy {
  const refused = toBlockList([...DEFAULT_REFUSED, ...rules.deny]);
  const allowed = toBlockList(rules.allow);

  function isRefused(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    // ::ffff:169.254.169.254 reaches the IPv4 address; judge it as IPv4.
    const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
    const [addr, type] = mapped ? [mapped, 'ipv4' as const] : [address, family === 4 ? ('ipv4' as const) : ('ipv6' as const)];
    return refused.check(addr, type) && !allowed.check(addr, type);
  }

  function refusal(host: string, address: string): NodeJS.ErrnoException {
    const err: NodeJS.ErrnoException = new Error(`upstream ${host} (${address}) is refused by the upstream address policy`);
    err.code = UPSTREAM_REFUSED;
    return err;
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '', 4);
      const usable = addresses.filter((a) => !isRefused(a.address));
      if (usable.length === 0) {
        return callback(refusal(hostname, addresses[0]?.address ?? '?'), options.all ? [] : '', 4);
      }
      if (options.all) return callback(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };

  // Checked when a deployment is saved, and again on every connection (lookup above), since
  // what a name resolves to can change later.
  async function refusedTarget(url: string): Promise<string | null> {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host)) return isRefused(host) ? host : null;
    try {
      const addresses = await dns.promises.lookup(host, { all: true });
      return addresses.find((a) => isRefused(a.address))?.address ?? null;
    } catch {
      return null; // a name that does not resolve yet is judged when connecting
    }
  }

  return { isRefused, lookup, refusal, refusedTarget };
}

function toBlockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`not an address or CIDR range: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}
