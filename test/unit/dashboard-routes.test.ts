// The control plane's dashboard routes: pages get index.html, hashed assets are cached forever,
// the API's paths are left alone, and nothing outside the build directory is ever served.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardRoutes } from '../../src/graphql-server/dashboard.ts';

async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const routes = createDashboardRoutes(dir);
  const server = createServer((req, res) => {
    if (!routes(req, res)) res.writeHead(418).end('not the dashboard');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Sends the path as written (fetch would normalise `..`). */
async function get(url: string, path: string, method = 'GET') {
  const res = await fetch(url + path, { method });
  return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), csp: res.headers.get('content-security-policy'), body: await res.text() };
}

describe('a built dashboard', () => {
  let root: string;
  let dir: string;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // The build sits beside a file no request may reach: one level up, as a traversal would aim.
    root = mkdtempSync(join(tmpdir(), 'kg-dash-'));
    writeFileSync(join(root, 'package.json'), '{ "name": "outside the build" }');
    dir = join(root, 'build');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>keygate</title>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'assets', 'index-abc123.css'), 'body{}');
    ({ server, url } = await serve(dir));
  });
  afterAll(() => {
    server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers index.html for the page paths, with a strict content security policy', async () => {
    for (const path of ['/', '/?x=1', '/projects/acme/keys', '/projects/acme/deployments/abc/api-keys']) {
      const page = await get(url, path);
      expect(page, path).toMatchObject({ status: 200, type: 'text/html; charset=utf-8', cache: 'no-cache', body: '<!doctype html><title>keygate</title>' });
      expect(page.csp).toContain("default-src 'self'");
    }
  });

  it('serves hashed assets as immutable, and 404 for an unknown one', async () => {
    expect(await get(url, '/assets/index-abc123.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8', body: 'console.log(1)' });
    expect((await get(url, '/assets/index-abc123.css')).cache).toBe('public, max-age=31536000, immutable');
    expect((await get(url, '/assets/nope.js')).status).toBe(404);
  });

  it('leaves the API, health and metrics paths and non-GET methods to the rest of the server', async () => {
    for (const path of ['/graphql', '/graphql?query={viewer{role}}', '/healthz', '/readyz', '/metrics']) {
      expect((await get(url, path)).status, path).toBe(418);
    }
    expect((await get(url, '/', 'POST')).status).toBe(418);
    expect((await get(url, '/', 'HEAD')).status).toBe(200);
  });

  it('never serves a file outside the build, whatever the path says', async () => {
    for (const path of ['/%2e%2e/package.json', '/assets/%2e%2e/%2e%2e/package.json', '/..%2fpackage.json', '/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd']) {
      const res = await get(url, path);
      expect(res.body, path).not.toContain('"name"');
      expect(res.body, path).not.toContain('root:');
    }
  });
});

it('says how to build the dashboard when it is not built', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'kg-dash-empty-'));
  const { server, url } = await serve(empty);
  try {
    const page = await get(url, '/');
    expect(page.status).toBe(503);
    expect(page.body).toContain('npm run dashboard:build');
  } finally {
    server.close();
    rmSync(empty, { recursive: true, force: true });
  }
});
