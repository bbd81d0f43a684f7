// Every IP address an address string stands for: the address itself in canonical text and, for
// IPv6 addresses that carry an IPv4 address (IPv4-mapped, IPv4-compatible, SIIT, NAT64, 6to4,
// Teredo), the IPv4 address they lead to. IPv4 is read in every form inet_aton and WHATWG URLs
// accept (decimal, octal, hex, short forms like "0" or "127.1"). Pure; used off the request path
// (when a deployment is saved and when an upstream connection is opened).
import { isIP } from 'node:net';

export interface AddressForms {
  /** the address in canonical text: dotted IPv4, or IPv6 as Node prints it */
  address: string;
  family: 4 | 6;
  /** the IPv4 address an IPv6 address carries, if any */
  embedded?: string;
}

/** null when `text` is not an IP address in any form (a host name). */
export function addressForms(text: string): AddressForms | null {
  let host = text.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const zone = host.indexOf('%');
  if (zone !== -1 && host.includes(':')) host = host.slice(0, zone); // fe80::1%eth0
  if (host.includes(':')) {
    if (isIP(host) !== 6) return null;
    const bytes = ipv6Bytes(host);
    const embedded = embeddedIPv4(bytes);
    return { address: formatIPv6(bytes), family: 6, ...(embedded === null ? {} : { embedded }) };
  }
  const v4 = parseIPv4(host);
  return v4 === null ? null : { address: v4, family: 4 };
}

/** IPv4 in any form inet_aton accepts: 1–4 parts, each decimal, octal (leading 0) or hex (0x). */
export function parseIPv4(text: string): string | null {
  const host = text.endsWith('.') ? text.slice(0, -1) : text;
  if (!/^[0-9a-fA-FxX.]+$/.test(host)) return null;
  const parts = host.split('.');
  if (parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(part)) value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return null;
    values.push(value);
  }
  // The last part fills the remaining bytes: "127.1" is 127.0.0.1, "2852039166" is 169.254.169.254.
  const last = values.pop()!;
  if (values.some((v) => v > 255) || last >= 256 ** (4 - values.length)) return null;
  let n = last;
  values.forEach((v, i) => (n += v * 256 ** (3 - i)));
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function ipv6Bytes(address: string): number[] {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 ("::ffff:1.2.3.4") becomes two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[2]!.split('.').map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groupsOf = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const front = groupsOf(head);
  const back = tail === undefined ? [] : groupsOf(tail);
  const groups = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  return groups.flatMap((g) => [g >> 8, g & 255]);
}

function formatIPv6(bytes: number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // The longest run of two or more zero groups becomes "::" (RFC 5952).
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

const v4 = (b: number[], at: number, xor = 0) => [b[at]! ^ xor, b[at + 1]! ^ xor, b[at + 2]! ^ xor, b[at + 3]! ^ xor].join('.');
const zeros = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

/** The IPv4 address an IPv6 address leads to, by the transition mechanisms that carry one. */
function embeddedIPv4(b: number[]): string | null {
  // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (SIIT translated), ::a.b.c.d (compatible; :: and ::1
  // are IPv6's own unspecified and loopback addresses, judged as IPv6)
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(b, 12);
  if (zeros(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return v4(b, 12);
  if (zeros(b, 0, 12) && !(zeros(b, 12, 15) && b[15]! <= 1)) return v4(b, 12);
  // NAT64 well-known prefix 64:ff9b::/96, and the local-use 64:ff9b:1::/48 (RFC 6052 layout)
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    if (zeros(b, 4, 12)) return v4(b, 12);
    if (b[4] === 0 && b[5] === 1) return [b[6], b[7], b[9], b[10]].join('.');
  }
  // 6to4 2002:aabb:ccdd::/48
  if (b[0] === 0x20 && b[1] === 0x02) return v4(b, 2);
  // Teredo 2001:0::/32: the client's address, inverted, in the last 32 bits
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) return v4(b, 12, 0xff);
  return null;
}
