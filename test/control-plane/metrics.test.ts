import { describe, expect, it } from 'vitest';
import { createKey, createProject } from '../helpers/fixtures.ts';
import { useKeygate } from '../helpers/keygate.ts';

const t = useKeygate();

describe('control-plane health and metrics', () => {
  it('answers /healthz and /readyz, and counts propagation outcomes on /metrics', async () => {
    const base = t.kg.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const project = await createProject(t.kg);
    const { secret } = await createKey(t.kg, project.id, 'metered-key');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/keygate_propagation_total\{outcome="confirmed"\} [1-9]/);
    expect(text).toMatch(/keygate_control_plane_applied_revision [1-9]/);
    expect(text).toContain('keygate_mutation_propagation_seconds_bucket');
    expect(text).not.toContain(secret);
  });
});
