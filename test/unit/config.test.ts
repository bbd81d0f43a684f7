import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      databaseUrl: undefined,
      redisUrl: undefined,
      redisPrefix: 'keygate:',
      host: '127.0.0.1',
      port: 4000,
      proxyPort: 8080,
      baseDomain: 'localhost',
      publicScheme: 'http',
      propagationTimeoutMs: 2000,
      proxyLeaseMs: 3000,
      pollIntervalMs: 1000,
      maxStalenessMs: 30000,
      changelogRetentionHours: 168,
      upstream: { connectTimeoutMs: 5000, headersTimeoutMs: 300000, idleTimeoutMs: 300000, allow: [], deny: [] },
      introspection: true,
      production: false,
      logLevel: 'info',
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', REDIS_URL: ' ', KEYGATE_PORT: '' })).toMatchObject({ databaseUrl: undefined, redisUrl: undefined, port: 4000 });
  });

  it('reports every problem in one error', () => {
    let error: unknown;
    try {
      loadConfig({ KEYGATE_PORT: 'abc', KEYGATE_PROXY_PORT: '70000', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', KEYGATE_UPSTREAM_DENY: 'not an address' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['KEYGATE_PORT', 'KEYGATE_PROXY_PORT', 'DATABASE_URL', 'LOG_LEVEL', 'KEYGATE_UPSTREAM_DENY']) expect(problems).toContain(name);
  });

  it('refuses REDIS_URL without DATABASE_URL', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/REDIS_URL is set but DATABASE_URL is not/);
  });

  it('turns introspection off in production unless asked for', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', KEYGATE_INTROSPECTION: 'true' }).introspection).toBe(true);
  });
});
