// The management commands' client of a running keygate's GraphQL API. Where: KEYGATE_URL, else
// the control plane this configuration would start (http://127.0.0.1:$KEYGATE_PORT). Which token:
// KEYGATE_TOKEN, else KEYGATE_ADMIN_TOKEN, else the admin-token file `keygate start` wrote.
import { readFile } from 'node:fs/promises';
import { adminTokenFile } from '../config/admin-token-file.ts';
import type { Config } from '../config/config.ts';
import { CliError } from './errors.ts';

export interface Api {
  /** the control plane's base URL */
  url: string;
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** a plain GET of a path beside /graphql (health, readiness, metrics) */
  get(path: string): Promise<{ status: number; text: string }>;
}

/** Wildcard bind addresses are reached on loopback. */
const reachable = (host: string) => (host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host);

export function apiUrl(config: Config): string {
  return (config.api.url ?? `http://${reachable(config.host)}:${config.port}`).replace(/\/graphql\/?$/, '').replace(/\/$/, '');
}

async function findToken(config: Config): Promise<string> {
  if (config.api.token) return config.api.token;
  if (config.adminToken) return config.adminToken;
  const file = adminTokenFile(config);
  const token = await readFile(file, 'utf8').then((text) => text.trim(), () => '');
  if (!token) throw new CliError(`no access token: set KEYGATE_TOKEN (or KEYGATE_ADMIN_TOKEN); ${file}, written by keygate start, was not found`);
  return token;
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

export async function connectApi(config: Config): Promise<Api> {
  const url = apiUrl(config);
  const token = await findToken(config);
  const unreachable = (error: unknown) =>
    new CliError(`cannot reach keygate at ${url} (KEYGATE_URL): ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}; is it running?`);

  return {
    url,
    async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      }).catch((error: unknown) => {
        throw unreachable(error);
      });
      const text = await response.text();
      let body: GraphQLResponse<T>;
      try {
        body = JSON.parse(text) as GraphQLResponse<T>;
      } catch {
        throw new CliError(`${url}/graphql answered ${response.status} with something that is not GraphQL: is KEYGATE_URL a keygate control plane?`);
      }
      const [first] = body.errors ?? [];
      if (response.status === 401 || first?.extensions?.code === 'UNAUTHENTICATED') {
        throw new CliError(`keygate at ${url} refused the access token (from KEYGATE_TOKEN, KEYGATE_ADMIN_TOKEN or the admin-token file): ${first?.message ?? response.status}`);
      }
      if (first) {
        const { code, field } = first.extensions ?? {};
        throw new CliError(`${first.message}${code ? ` (${code}${field ? `, ${field}` : ''})` : ''}`);
      }
      if (!body.data) throw new CliError(`${url}/graphql answered ${response.status} without data`);
      return body.data;
    },
    async get(path: string) {
      const response = await fetch(`${url}${path}`).catch((error: unknown) => {
        throw unreachable(error);
      });
      return { status: response.status, text: await response.text() };
    },
  };
}
