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
      changelogRetentionHours: 2160,
      expiryWarningHours: 72,
      upstream: { connectTimeoutMs: 5000, headersTimeoutMs: 300000, idleTimeoutMs: 300000, allow: [], deny: [] },
      introspection: true,
      production: false,
      drainMs: 1000,
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

  it('puts the status listener on the proxy port + 1 at 127.0.0.1, ephemeral when the proxy port is', () => {
    expect(loadConfig({}).status).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(loadConfig({ KEYGATE_PROXY_PORT: '9000' }).status.port).toBe(9001);
    expect(loadConfig({ KEYGATE_PROXY_PORT: '0' }).status.port).toBe(0);
    expect(loadConfig({ KEYGATE_STATUS_PORT: '9100', KEYGATE_STATUS_HOST: '0.0.0.0' }).status).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(() => loadConfig({ KEYGATE_PROXY_PORT: '65535' })).toThrow(/KEYGATE_STATUS_PORT must be set/);
    expect(() => loadConfig({ KEYGATE_STATUS_PORT: '70000' })).toThrow(/KEYGATE_STATUS_PORT/);
  });

  it('reads the connection cap, the access log and the production upstream rule', () => {
    expect(loadConfig({})).toMatchObject({ proxyMaxConnections: 10_000, accessLog: false, upstream: { refuseLoopback: false } });
    expect(loadConfig({ KEYGATE_PROXY_MAX_CONNECTIONS: '50000', KEYGATE_ACCESS_LOG: 'true', NODE_ENV: 'production' })).toMatchObject({
      proxyMaxConnections: 50_000,
      accessLog: true,
      upstream: { refuseLoopback: true },
    });
    expect(() => loadConfig({ KEYGATE_PROXY_MAX_CONNECTIONS: '0' })).toThrow(/KEYGATE_PROXY_MAX_CONNECTIONS/);
    expect(() => loadConfig({ KEYGATE_ACCESS_LOG: 'yes' })).toThrow(/KEYGATE_ACCESS_LOG/);
  });
});
