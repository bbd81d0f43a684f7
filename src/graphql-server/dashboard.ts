// Serves the built dashboard (src/dashboard, built by `npm run dashboard:build` into
// dist/dashboard) from the control plane: hashed assets under /assets/, and index.html for every
// other page path, so the single-page app's own routes survive a reload. The build's .br and .gz
// copies are sent instead when the client accepts them (Content-Encoding, Vary: Accept-Encoding). Only the files that
// were in the build directory at start are served; nothing is read from a path a client names.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run dashboard:build` writes (and `npm ci` builds, through postinstall). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dist/dashboard', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** The page talks only to its own origin: /graphql over fetch and graphql-ws. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Paths that belong to the API or operations, never to the page. */
const NOT_PAGES = /^\/(graphql|healthz|readyz|metrics)(\/|$|\?)/;

interface Asset {
  body: Buffer;
  type: string;
  immutable: boolean;
  /** pre-compressed copies from the build, by Content-Encoding */
  encoded: Partial<Record<'br' | 'gzip', Buffer>>;
}

const COPIES = { br: '.br', gzip: '.gz' } as const;

/** The best encoding the client accepts that the asset has (brotli first); null for none. */
function pickEncoding(asset: Asset, accept: string | undefined): 'br' | 'gzip' | null {
  const accepted = new Set(
    (accept ?? '')
      .split(',')
      .map((part) => part.trim().split(';'))
      .filter(([, q]) => !q || !/^q=0(\.0*)?$/.test(q.trim()))
      .map(([name]) => name!.trim().toLowerCase()),
  );
  for (const encoding of ['br', 'gzip'] as const) if (asset.encoded[encoding] && accepted.has(encoding)) return encoding;
  return null;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => statSync(join(dir, name)).isFile());
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>keygate</title>
<p>The keygate dashboard is not built. Run <code>npm run dashboard:build</code> (npm ci does it) and restart.
The GraphQL API is at <a href="/graphql">/graphql</a>.</p>`;

/**
 * A request handler for the control plane's extra routes: true when it answered. `dir` holds the
 * build; when it has no index.html, pages answer 503 with how to build it.
 */
export function createDashboardRoutes(dir: string = DEFAULT_DASHBOARD_DIR): (req: IncomingMessage, res: ServerResponse) => boolean {
  const assets = new Map<string, Asset>();
  if (existsSync(join(dir, 'index.html'))) {
    const files = new Set(listFiles(dir));
    for (const name of files) {
      if (name.endsWith(COPIES.br) || name.endsWith(COPIES.gzip)) continue;
      const urlPath = `/${relative(dir, join(dir, name)).split(sep).join('/')}`;
      const encoded: Asset['encoded'] = {};
      for (const [encoding, suffix] of Object.entries(COPIES) as ['br' | 'gzip', string][]) {
        if (files.has(name + suffix)) encoded[encoding] = readFileSync(join(dir, name + suffix));
      }
      assets.set(urlPath, {
        body: readFileSync(join(dir, name)),
        type: TYPES[extname(name)] ?? 'application/octet-stream',
        immutable: urlPath.startsWith('/assets/'),
        encoded,
      });
    }
  }
  const index = assets.get('/index.html');

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '/';
    if (NOT_PAGES.test(url)) return false;
    const path = url.split('?')[0]!;
    const asset = assets.get(path) ?? (path.startsWith('/assets/') ? undefined : index);
    if (!asset) {
      const status = path.startsWith('/assets/') ? 404 : 503;
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : status === 404 ? 'not found' : NOT_BUILT);
      return true;
    }
    const encoding = pickEncoding(asset, req.headers['accept-encoding']);
    const body = encoding ? asset.encoded[encoding]! : asset.body;
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': body.length,
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...(encoding ? { 'content-encoding': encoding } : {}),
      ...(Object.keys(asset.encoded).length > 0 ? { vary: 'accept-encoding' } : {}),
      ...SECURITY_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
