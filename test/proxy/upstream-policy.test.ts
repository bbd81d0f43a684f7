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
  ])('%s refused: %s', (address, refused) => {
    expect(policy.isRefused(address)).toBe(refused);
  });

  it('allow lets a listed metadata address through and nothing else', () => {
    const p = createUpstreamPolicy({ allow: ['169.254.169.254'], deny: [] });
    expect(p.isRefused('169.254.169.254')).toBe(false);
    expect(p.isRefused('169.254.169.253')).toBe(true);
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
