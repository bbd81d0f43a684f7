// Which addresses the proxy may connect to as upstreams (docs/architecture.md, "Upstream policy"). Every
// address is judged in all its forms (ip-forms.ts): an IPv6 address that carries an IPv4 address
// is refused when either is. Checked when a deployment is saved and again whenever a connection
// is made (the keep-alive agents' lookup and address check), so a host name that resolves to a
// refused address is refused too, whenever DNS answers that.
import dns from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { addressForms } from './ip-forms.ts';

/** Never an upstream, whatever KEYGATE_UPSTREAM_ALLOW says: "this host" addresses, which the
 *  kernel routes to the proxy's own machine. */
export const NEVER_ALLOWED = ['0.0.0.0/8', '::/128'];
/** Refused unless KEYGATE_UPSTREAM_ALLOW lists them: link-local and the cloud metadata services
 *  (AWS/GCP/Azure 169.254.169.254, Alibaba 100.100.100.200, AWS IPv6 fd00:ec2::254). */
export const DEFAULT_REFUSED = ['169.254.0.0/16', 'fe80::/10', '100.100.100.200/32', 'fd00:ec2::254/128'];
/** Refused too with NODE_ENV=production: a deployment must not reach the process's own ports. */
export const LOOPBACK = ['127.0.0.0/8', '::1/128'];

export const UPSTREAM_REFUSED = 'KEYGATE_UPSTREAM_REFUSED';
/** addresses whose verdict is kept */
const MAX_VERDICTS = 4096;

export interface UpstreamRules {
  allow: readonly string[];
  deny: readonly string[];
  /** NODE_ENV=production: loopback is refused unless allowed */
  refuseLoopback?: boolean;
}

export interface UpstreamPolicy {
  /** whether an address (in any form) is refused; false for a host name */
  isRefused(address: string): boolean;
  /** the refused address an upstream URL's host is or resolves to now; null when none */
  refusedTarget(url: string): Promise<string | null>;
  /** dns.lookup that drops refused addresses and fails when none is left */
  lookup: LookupFunction;
  /** the error a refused connection fails with (code UPSTREAM_REFUSED) */
  refusal(host: string, address: string): NodeJS.ErrnoException;
}

export function createUpstreamPolicy(rules: UpstreamRules): UpstreamPolicy {
  const never = toBlockList(NEVER_ALLOWED);
  const refused = toBlockList([...DEFAULT_REFUSED, ...(rules.refuseLoopback ? LOOPBACK : []), ...rules.deny]);
  const allowed = toBlockList(rules.allow);

  // The rules never change: each address's verdict is kept (a few upstream addresses in practice,
  // and every new upstream connection asks), the map emptied if it ever grows past its bound.
  const verdicts = new Map<string, boolean>();
  function isRefused(address: string): boolean {
    let verdict = verdicts.get(address);
    if (verdict === undefined) {
      if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
      verdicts.set(address, (verdict = judge(address)));
    }
    return verdict;
  }

  function judge(address: string): boolean {
    const forms = addressForms(address);
    if (forms === null) return false;
    const own = [forms.address, forms.family === 4 ? 'ipv4' : 'ipv6'] as const;
    const inside = (list: BlockList) => list.check(...own) || (forms.embedded !== undefined && list.check(forms.embedded, 'ipv4'));
    if (inside(never)) return true;
    return inside(refused) && !inside(allowed);
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
    const host = new URL(url).hostname;
    const forms = addressForms(host);
    if (forms !== null) return isRefused(forms.address) ? forms.address : null;
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
    // Rules are written in standard notation only; the addresses they are checked against are
    // canonicalised first.
    const family = isIP(address);
    if (family === 0) throw new Error(`not an address or CIDR range: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}
