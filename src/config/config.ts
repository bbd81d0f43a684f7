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

/** Comma-separated origins allowed to call the control plane from a browser, e.g. "https://admin.example.com". */
const originList = optionalString.pipe(
  z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s,]+$/i, 'must be a comma-separated list of origins (scheme://host[:port])'))),
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
  /** -1: unset, the proxy port + 1 (0 when the proxy port is 0) */
  KEYGATE_STATUS_PORT: int(-1, 0, 65535),
  KEYGATE_STATUS_HOST: optionalString.transform((v) => v ?? '127.0.0.1'),
  KEYGATE_PROXY_MAX_CONNECTIONS: int(10_000, 1, 1_000_000),
  KEYGATE_ACCESS_LOG: optionalString.pipe(z.enum(['true', 'false']).optional().transform((v) => v === 'true')),
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
  // -1: unset (10 s with NODE_ENV=production, 1 s otherwise)
  KEYGATE_DRAIN_MS: int(-1, 0, 600_000),
  KEYGATE_PROXY_LEASE_MS: int(3000, 300, 600_000),
  KEYGATE_RATELIMIT_SYNC_MS: int(50, 5, 10_000),
  KEYGATE_RATELIMIT_WINDOW_MS: int(60_000, 1000, 3_600_000),
  KEYGATE_POLL_INTERVAL_MS: int(1000, 50, 600_000),
  KEYGATE_MAX_STALENESS_MS: int(30_000, 100, 3_600_000),
  KEYGATE_CHANGELOG_RETENTION_HOURS: int(2160, 1, 24 * 365),
  KEYGATE_EXPIRY_WARNING_HOURS: int(72, 0, 24 * 365),
  KEYGATE_UPSTREAM_CONNECT_TIMEOUT_MS: int(5000, 1, 600_000),
  KEYGATE_UPSTREAM_HEADERS_TIMEOUT_MS: int(300_000, 1, 3_600_000),
  KEYGATE_UPSTREAM_IDLE_TIMEOUT_MS: int(300_000, 1, 3_600_000),
  KEYGATE_UPSTREAM_ALLOW: cidrList,
  KEYGATE_UPSTREAM_DENY: cidrList,
  KEYGATE_INTROSPECTION: optionalString.pipe(z.enum(['true', 'false']).optional()),
  KEYGATE_USAGE_METERING: optionalString.pipe(z.enum(['true', 'false']).optional()),
  KEYGATE_URL: url(['http:', 'https:']),
  KEYGATE_TOKEN: optionalString,
  KEYGATE_OPERATION_DEADLINE_MS: int(2000, 1, 600_000),
  KEYGATE_CORS_ORIGINS: originList,
  KEYGATE_CONTROL_PLANE_MAX_CONNECTIONS: int(10_000, 1, 1_000_000),
  KEYGATE_WS_MAX_SUBSCRIPTIONS: int(100, 1, 100_000),
  KEYGATE_WS_MAX_CONNECTIONS_PER_TOKEN: int(1_000, 1, 1_000_000),
  KEYGATE_WS_MAX_SUBSCRIPTIONS_PER_TOKEN: int(1_000, 1, 10_000_000),
  KEYGATE_MAX_LINKED_ITEMS: int(50_000, 1, 10_000_000),
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
  /** the proxy's status listener (/metrics), off the public port */
  status: { host: string; port: number };
  /** open client connections the proxy accepts; the excess is answered 503 and closed */
  proxyMaxConnections: number;
  /** one log line per proxied request */
  accessLog: boolean;
  baseDomain: string;
  publicScheme: 'http' | 'https';
  /** 0: the proxy's own port */
  publicPort: number;
  adminToken: string | undefined;
  propagationTimeoutMs: number;
  proxyLeaseMs: number;
  /** how often a proxy syncs its rate-limit counts with Redis (KEYGATE_RATELIMIT_SYNC_MS) */
  rateLimitSyncMs: number;
  /** the rate-limit window; 60,000 ms except in tests (KEYGATE_RATELIMIT_WINDOW_MS) */
  rateLimitWindowMs: number;
  pollIntervalMs: number;
  maxStalenessMs: number;
  changelogRetentionHours: number;
  /** a key whose expiresAt is this close is `expiresSoon` and gets API_KEY_EXPIRING; 0: no warnings */
  expiryWarningHours: number;
  upstream: {
    connectTimeoutMs: number;
    headersTimeoutMs: number;
    idleTimeoutMs: number;
    allow: string[];
    deny: string[];
    /** NODE_ENV=production: loopback upstreams are refused unless allowed */
    refuseLoopback: boolean;
  };
  /** the CLI's management commands: a running keygate's control plane and the token they send */
  api: { url: string | undefined; token: string | undefined };
  /** browser origins allowed by CORS; empty: no CORS headers at all (the dashboard is same-origin) */
  corsOrigins: string[];
  /** open TCP connections (HTTP and WebSocket) the control-plane server accepts at once */
  controlPlaneMaxConnections: number;
  /** graphql-ws: subscriptions per connection, connections per access token (src/graphql-server/ws-limits.ts) */
  wsLimits: { maxSubscriptions: number; maxConnectionsPerToken: number; maxSubscriptionsPerToken: number };
  /** what one GraphQL request (a batch as a whole) may spend: src/graphql/operation-limits.ts */
  operationLimits: { deadlineMs: number; maxLinkedItems: number };
  production: boolean;
  /** how long requests in flight get to finish when a server stops (SIGTERM; KEYGATE_DRAIN_MS, default 10 s with NODE_ENV=production, 1 s otherwise) */
  drainMs: number;
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
  if (e.KEYGATE_STATUS_PORT === -1 && e.KEYGATE_PROXY_PORT === 65535) {
    problems.push('KEYGATE_STATUS_PORT must be set when KEYGATE_PROXY_PORT is 65535 (its default is the proxy port + 1)');
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
    status: {
      host: e.KEYGATE_STATUS_HOST,
      // An ephemeral proxy port (tests) makes the status port ephemeral too.
      port: e.KEYGATE_STATUS_PORT !== -1 ? e.KEYGATE_STATUS_PORT : e.KEYGATE_PROXY_PORT === 0 ? 0 : e.KEYGATE_PROXY_PORT + 1,
    },
    proxyMaxConnections: e.KEYGATE_PROXY_MAX_CONNECTIONS,
    accessLog: e.KEYGATE_ACCESS_LOG,
    baseDomain: e.KEYGATE_BASE_DOMAIN,
    publicScheme: e.KEYGATE_PUBLIC_SCHEME,
    publicPort: e.KEYGATE_PUBLIC_PORT,
    adminToken: e.KEYGATE_ADMIN_TOKEN,
    propagationTimeoutMs: e.KEYGATE_PROPAGATION_TIMEOUT_MS,
    proxyLeaseMs: e.KEYGATE_PROXY_LEASE_MS,
    rateLimitSyncMs: e.KEYGATE_RATELIMIT_SYNC_MS,
    rateLimitWindowMs: e.KEYGATE_RATELIMIT_WINDOW_MS,
    pollIntervalMs: e.KEYGATE_POLL_INTERVAL_MS,
    maxStalenessMs: e.KEYGATE_MAX_STALENESS_MS,
    changelogRetentionHours: e.KEYGATE_CHANGELOG_RETENTION_HOURS,
    expiryWarningHours: e.KEYGATE_EXPIRY_WARNING_HOURS,
    upstream: {
      connectTimeoutMs: e.KEYGATE_UPSTREAM_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: e.KEYGATE_UPSTREAM_HEADERS_TIMEOUT_MS,
      idleTimeoutMs: e.KEYGATE_UPSTREAM_IDLE_TIMEOUT_MS,
      allow: e.KEYGATE_UPSTREAM_ALLOW,
      deny: e.KEYGATE_UPSTREAM_DENY,
      refuseLoopback: production,
    },
    api: { url: e.KEYGATE_URL, token: e.KEYGATE_TOKEN },
    corsOrigins: e.KEYGATE_CORS_ORIGINS,
    controlPlaneMaxConnections: e.KEYGATE_CONTROL_PLANE_MAX_CONNECTIONS,
    wsLimits: {
      maxSubscriptions: e.KEYGATE_WS_MAX_SUBSCRIPTIONS,
      maxConnectionsPerToken: e.KEYGATE_WS_MAX_CONNECTIONS_PER_TOKEN,
      maxSubscriptionsPerToken: e.KEYGATE_WS_MAX_SUBSCRIPTIONS_PER_TOKEN,
    },
    operationLimits: { deadlineMs: e.KEYGATE_OPERATION_DEADLINE_MS, maxLinkedItems: e.KEYGATE_MAX_LINKED_ITEMS },
    production,
    drainMs: e.KEYGATE_DRAIN_MS >= 0 ? e.KEYGATE_DRAIN_MS : production ? 10_000 : 1_000,
    introspection: e.KEYGATE_INTROSPECTION ? e.KEYGATE_INTROSPECTION === 'true' : !production,
    usageMetering: e.KEYGATE_USAGE_METERING !== 'false',
    logLevel: e.LOG_LEVEL,
  };
}
