// keygate's configuration: every environment variable is read and validated here, once.
// The rest of the code receives a typed Config and never reads process.env.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/** An empty variable counts as unset. */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  optionalString.pipe(
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().int().min(min).max(max))
      .optional()
      .transform((v) => v ?? fallback),
  );

const url = (schemes: string[]) =>
  optionalString.pipe(
    z
      .string()
      .refine((v) => {
        try {
          return schemes.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, `must be a ${schemes.map((s) => s.replace(':', '://')).join(' or ')} URL`)
      .optional(),
  );

/** Comma-separated CIDR ranges or addresses, e.g. "10.0.0.0/8, 169.254.169.254". */
const cidrList = optionalString.pipe(
  z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []))
    .pipe(z.array(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'must be a comma-separated list of addresses or CIDR ranges'))),
);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  REDIS_URL: url(['redis:', 'rediss:']),
  KEYGATE_REDIS_PREFIX: optionalString.pipe(z.string().max(64).optional().transform((v) => v ?? 'keygate:')),
  KEYGATE_DATA_DIR: optionalString.transform((v) => v ?? './.keygate'),
  KEYGATE_HOST: optionalString.transform((v) => v ?? '127.0.0.1'),
  KEYGATE_PORT: int(4000, 0, 65535),
  KEYGATE_PROXY_PORT: int(8080, 0, 65535),
  KEYGATE_BASE_DOMAIN: optionalString.pipe(
    z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i, 'must be a domain name')
      .optional()
      .transform((v) => (v ?? 'localhost').toLowerCase()),
  ),
  KEYGATE_PUBLIC_SCHEME: optionalString.pipe(z.enum(['http', 'https']).optional().transform((v) => v ?? 'http')),
  KEYGATE_PUBLIC_PORT: int(0, 0, 65535),
  KEYGATE_ADMIN_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  KEYGATE_PROPAGATION_TIMEOUT_MS: int(2000, 0, 60_000),
  KEYGATE_PROXY_LEASE_MS: int(3000, 300, 600_000),
  KEYGATE_POLL_INTERVAL_MS: int(1000, 50, 600_000),
  KEYGATE_MAX_STALENESS_MS: int(30_000, 100, 3_600_000),
  KEYGATE_CHANGELOG_RETENTION_HOURS: int(168, 1, 24 * 365),
  KEYGATE_UPSTREAM_CONNECT_TIMEOUT_MS: int(5000, 1, 600_000),
  KEYGATE_UPSTREAM_HEADERS_TIMEOUT_MS: int(300_000, 1, 3_600_000),
  KEYGATE_UPSTREAM_IDLE_TIMEOUT_MS: int(300_000, 1, 3_600_000),
  KEYGATE_UPSTREAM_ALLOW: cidrList,
  KEYGATE_UPSTREAM_DENY: cidrList,
  KEYGATE_INTROSPECTION: optionalString.pipe(z.enum(['true', 'false']).optional()),
  KEYGATE_USAGE_METERING: optionalString.pipe(z.enum(['true', 'false']).optional()),
  NODE_ENV: optionalString,
  LOG_LEVEL: optionalString.pipe(z.enum(LOG_LEVELS).optional().transform((v) => v ?? 'info')),
});

export type Env = Record<string, string | undefined>;

export interface Config {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  dataDir: string;
  host: string;
  port: number;
  proxyPort: number;
  baseDomain: string;
  publicScheme: 'http' | 'https';
  /** 0: the proxy's own port */
  publicPort: number;
  adminToken: string | undefined;
  propagationTimeoutMs: number;
  proxyLeaseMs: number;
  pollIntervalMs: number;
  maxStalenessMs: number;
  changelogRetentionHours: number;
  upstream: {
    connectTimeoutMs: number;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    allow: string[];
    deny: string[];
  };
  production: boolean;
  introspection: boolean;
  /** the proxy counts requests and tokens (KEYGATE_USAGE_METERING, default true; false is for measuring its cost) */
  usageMetering: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The variables keygate reads; anything else in the environment is ignored. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);

/** Parses the environment; throws one ConfigError listing every problem. */
export function loadConfig(env: Env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.REDIS_URL && !e.DATABASE_URL) {
    problems.push('REDIS_URL is set but DATABASE_URL is not: replicas share state through Postgres, set both or neither');
  }
  if (e.KEYGATE_POLL_INTERVAL_MS >= e.KEYGATE_MAX_STALENESS_MS) {
    problems.push('KEYGATE_POLL_INTERVAL_MS must be smaller than KEYGATE_MAX_STALENESS_MS');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const production = e.NODE_ENV === 'production';
  return {
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.KEYGATE_REDIS_PREFIX,
    dataDir: isAbsolute(e.KEYGATE_DATA_DIR) ? e.KEYGATE_DATA_DIR : resolve(e.KEYGATE_DATA_DIR),
    host: e.KEYGATE_HOST,
    port: e.KEYGATE_PORT,
    proxyPort: e.KEYGATE_PROXY_PORT,
    baseDomain: e.KEYGATE_BASE_DOMAIN,
    publicScheme: e.KEYGATE_PUBLIC_SCHEME,
    publicPort: e.KEYGATE_PUBLIC_PORT,
    adminToken: e.KEYGATE_ADMIN_TOKEN,
    propagationTimeoutMs: e.KEYGATE_PROPAGATION_TIMEOUT_MS,
    proxyLeaseMs: e.KEYGATE_PROXY_LEASE_MS,
    pollIntervalMs: e.KEYGATE_POLL_INTERVAL_MS,
    maxStalenessMs: e.KEYGATE_MAX_STALENESS_MS,
    changelogRetentionHours: e.KEYGATE_CHANGELOG_RETENTION_HOURS,
    upstream: {
      connectTimeoutMs: e.KEYGATE_UPSTREAM_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: e.KEYGATE_UPSTREAM_HEADERS_TIMEOUT_MS,
      idleTimeoutMs: e.KEYGATE_UPSTREAM_IDLE_TIMEOUT_MS,
      allow: e.KEYGATE_UPSTREAM_ALLOW,
      deny: e.KEYGATE_UPSTREAM_DENY,
    },
    production,
    introspection: e.KEYGATE_INTROSPECTION ? e.KEYGATE_INTROSPECTION === 'true' : !production,
    usageMetering: e.KEYGATE_USAGE_METERING !== 'false',
    logLevel: e.LOG_LEVEL,
  };
}
