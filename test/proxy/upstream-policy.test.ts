import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UPSTREAM_REFUSED, createUpstreamPolicy } from '../../src/domain/upstream-policy.ts';

describe('upstream policy', () => {
  const policy = createUpstreamPolicy({ allow: [], deny: ['10.0.0.0/8', '192.0.2.7'] });

  it.each([
    ['169.254.169.254', true],
    ['169.254.0.1', true],
    ['::ffff:169.254.169.254', true],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['10.1.2.3', true],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['127.0.0.1', false],
    ['::1', false],
    ['8.8.8.8', false],
    ['not-an-ip', false],
    // issue 15, finding 3: each of these was accepted
    ['0.0.0.0', true],
    ['0', true],
    ['::', true],
    ['[::]', true],
    ['::ffff:0.0.0.0', true],
    ['::ffff:0:0', true],
    ['::a9fe:a9fe', true],
    ['64:ff9b::a9fe:a9fe', true],
    ['::ffff:0:a9fe:a9fe', true],
    ['100.100.100.200', true],
    ['2002:a9fe:a9fe::', true],
    ['2852039166', true],
    ['0251.0376.0251.0376', true],
    ['0xa9fea9fe', true],
    ['169.254.43518', true],
    ['fe80::1%eth0', true],
  ])('%s refused: %s', (address, refused) => {
    expect(policy.isRefused(address)).toBe(refused);
  });

  it('refuses loopback in every form with NODE_ENV=production (refuseLoopback), and only then', () => {
    const production = createUpstreamPolicy({ allow: [], deny: [], refuseLoopback: true });
    for (const address of ['127.0.0.1', '127.1', '2130706433', '0x7f000001', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::7f00:1', '2002:7f00:1::']) {
      expect(production.isRefused(address), address).toBe(true);
      expect(policy.isRefused(address), address).toBe(false);
    }
    // an operator who runs models on the same machine says so
    expect(createUpstreamPolicy({ allow: ['127.0.0.1'], deny: [], refuseLoopback: true }).isRefused('::ffff:127.0.0.1')).toBe(false);
  });

  it('allow lets a listed metadata address through and nothing else', () => {
    const p = createUpstreamPolicy({ allow: ['169.254.169.254'], deny: [] });
    expect(p.isRefused('169.254.169.254')).toBe(false);
    expect(p.isRefused('::ffff:a9fe:a9fe')).toBe(false);
    expect(p.isRefused('169.254.169.253')).toBe(true);
  });

  it('never allows "this host" addresses, whatever allow says', () => {
    const p = createUpstreamPolicy({ allow: ['0.0.0.0/0', '::/0'], deny: [] });
    for (const address of ['0.0.0.0', '0', '0.1.2.3', '::', '::ffff:0:0']) expect(p.isRefused(address), address).toBe(true);
    expect(p.isRefused('169.254.169.254')).toBe(false);
  });

  it('an allow-list only: deny everything, allow the model network', () => {
    const p = createUpstreamPolicy({ allow: ['10.1.0.0/16'], deny: ['0.0.0.0/0', '::/0'] });
    expect(p.isRefused('10.1.2.3')).toBe(false);
    expect(p.isRefused('::ffff:10.1.2.3')).toBe(false);
    expect(p.isRefused('10.2.0.1')).toBe(true);
    expect(p.isRefused('2001:db8::1')).toBe(true);
  });

  it('judges an upstream URL by its host in whatever form it is written', async () => {
    for (const url of ['http://0/', 'http://0.0.0.0:4000/', 'http://[::]:4000', 'http://[::ffff:0.0.0.0]/', 'http://[::a9fe:a9fe]/', 'http://[64:ff9b::a9fe:a9fe]/', 'http://[::ffff:0:a9fe:a9fe]/', 'http://100.100.100.200/', 'http://2852039166/', 'http://0xA9.0376.43518/']) {
      expect(await policy.refusedTarget(url), url).not.toBeNull();
    }
    expect(await policy.refusedTarget('http://127.0.0.1:4000/')).toBeNull();
    expect(await createUpstreamPolicy({ allow: [], deny: [], refuseLoopback: true }).refusedTarget('http://localhost:4000/')).not.toBeNull();
  });

  it('lookup drops refused addresses and fails when none is left', async () => {
    const lookup = (host: string, all: boolean) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
        policy.lookup(host, { all }, (err, address) => resolve({ err, address })),
      );
    expect((await lookup('localhost', false)).err).toBeNull();
    expect((await lookup('localhost', true)).address).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]));

    const denyLoopback = createUpstreamPolicy({ allow: [], deny: ['127.0.0.0/8', '::1/128'] });
    const refused = await new Promise<NodeJS.ErrnoException | null>((resolve) => denyLoopback.lookup('localhost', { all: true }, (err) => resolve(err)));
    expect(refused?.code).toBe(UPSTREAM_REFUSED);
    expect(refused?.message).toMatch(/refused by the upstream address policy/);
  });

  it('rejects a rule that is not an address', () => {
    expect(() => createUpstreamPolicy({ allow: ['nope/8'], deny: [] })).toThrow(/not an address/);
  });
});

// ---------- properties: every form of an address is judged like the address ----------

type V4 = [number, number, number, number];
const hex = (n: number) => n.toString(16);
const int = ([a, b, c, d]: V4) => ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;

/** Ways of writing one IPv4 address that reach it (inet_aton, WHATWG URL hosts, IPv6 transition
 *  mechanisms), written here independently of src/domain/ip-forms.ts. */
const FORMS: Record<string, (v: V4) => string> = {
  dotted: (v) => v.join('.'),
  decimal: (v) => String(int(v)),
  hexInt: (v) => `0x${hex(int(v))}`,
  octalDotted: (v) => v.map((x) => `0${x.toString(8)}`).join('.'),
  hexDotted: (v) => v.map((x) => `0x${hex(x)}`).join('.'),
  threeParts: ([a, b, c, d]) => `${a}.${b}.${c * 256 + d}`,
  twoParts: ([a, b, c, d]) => `${a}.${b * 65536 + c * 256 + d}`,
  mappedDotted: (v) => `::ffff:${v.join('.')}`,
  mappedHex: ([a, b, c, d]) => `::ffff:${hex((a << 8) | b)}:${hex((c << 8) | d)}`,
  mappedLong: (v) => `0:0:0:0:0:FFFF:${v.join('.')}`,
  // (for 0.0.0.0 and 0.0.0.1 this writes :: and ::1, IPv6's own addresses: see `written` below)
  compatible: ([a, b, c, d]) => `::${hex((a << 8) | b)}:${hex((c << 8) | d)}`,
  siit: ([a, b, c, d]) => `::ffff:0:${hex((a << 8) | b)}:${hex((c << 8) | d)}`,
  nat64: (v) => `64:ff9b::${v.join('.')}`,
  nat64Hex: ([a, b, c, d]) => `64:FF9B:0:0:0:0:${hex((a << 8) | b)}:${hex((c << 8) | d)}`,
  sixToFour: ([a, b, c, d]) => `2002:${hex((a << 8) | b)}:${hex((c << 8) | d)}::1`,
  teredo: ([a, b, c, d]) => `2001:0:4136:e378:8000:63bf:${hex(((a << 8) | b) ^ 0xffff)}:${hex(((c << 8) | d) ^ 0xffff)}`,
};
const formArb = fc.constantFrom(...Object.keys(FORMS));
/** the address written in one form; :: and ::1 are not IPv4-compatible forms but IPv6's own */
const writtenAs = (v: V4, form: string) => (form === 'compatible' && int(v) <= 1 ? FORMS.mappedDotted!(v) : FORMS[form]!(v));
const octet = fc.integer({ min: 0, max: 255 });
/** IPv4 addresses, many of them inside the ranges that matter */
const v4Arb: fc.Arbitrary<V4> = fc.oneof(
  fc.tuple(octet, octet, octet, octet),
  fc.tuple(fc.constant(0), octet, octet, octet),
  fc.tuple(fc.constant(169), fc.constant(254), octet, octet),
  fc.tuple(fc.constant(127), octet, octet, octet),
  fc.constantFrom<V4>([169, 254, 169, 254], [100, 100, 100, 200], [0, 0, 0, 0], [127, 0, 0, 1], [100, 100, 100, 201], [8, 8, 8, 8]),
);
/** what the policy must decide for an IPv4 address, from DESIGN.md's list */
const mustRefuse = ([a, b, c, d]: V4, production: boolean) =>
  a === 0 || (a === 169 && b === 254) || (a === 100 && b === 100 && c === 100 && d === 200) || (production && a === 127);

describe('upstream policy properties', () => {
  const plain = createUpstreamPolicy({ allow: [], deny: [] });
  const production = createUpstreamPolicy({ allow: [], deny: [], refuseLoopback: true });

  it('refuses exactly the listed IPv4 ranges, in every form of the address', () => {
    fc.assert(
      fc.property(v4Arb, formArb, fc.boolean(), (v, form, prod) => {
        const written = writtenAs(v, form);
        expect((prod ? production : plain).isRefused(written), `${form}: ${written}`).toBe(mustRefuse(v, prod));
      }),
      { numRuns: 3000 },
    );
  });

  it('judges a URL host like the address it stands for, whatever the URL parser makes of it', async () => {
    await fc.assert(
      fc.asyncProperty(v4Arb, formArb, fc.boolean(), async (v, form, prod) => {
        const written = writtenAs(v, form);
        const url = `http://${written.includes(':') ? `[${written}]` : written}:8000/v1`;
        const refused = await (prod ? production : plain).refusedTarget(url);
        expect(refused !== null, url).toBe(mustRefuse(v, prod));
      }),
      { numRuns: 1500 },
    );
  });

  it('an allow entry lets every form of its address through, and a deny entry refuses every form', () => {
    fc.assert(
      fc.property(v4Arb, formArb, (v, form) => {
        const written = writtenAs(v, form);
        const always = v[0] === 0;
        expect(createUpstreamPolicy({ allow: [v.join('.')], deny: [] }).isRefused(written), written).toBe(always);
        expect(createUpstreamPolicy({ allow: [], deny: [`${v.join('.')}/32`] }).isRefused(written), written).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
