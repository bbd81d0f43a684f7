// The floor for any Node proxy: node:http, a keep-alive agent, a Map lookup of the key's SHA-256.
//   PORT=… UPSTREAM=http://127.0.0.1:9000 KEY_HASHES=<hex>,<hex> node --import tsx bench/reference-proxy.ts
import { createHash } from 'node:crypto';
import http from 'node:http';

const upstream = new URL(process.env.UPSTREAM!);
const keys = new Map((process.env.KEY_HASHES ?? '').split(',').map((hash) => [hash, true]));
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
const UNAUTHORIZED = '{"error":{"message":"Invalid API key.","type":"invalid_request_error","code":"invalid_api_key"}}';

const server = http.createServer((req, res) => {
  const key = req.headers['x-api-key'];
  if (typeof key !== 'string' || !keys.has(createHash('sha256').update(key).digest('hex'))) {
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': UNAUTHORIZED.length }).end(UNAUTHORIZED);
    return;
  }
  const headers: http.OutgoingHttpHeaders = { ...req.headers, host: upstream.host };
  delete headers['x-api-key'];
  const proxyReq = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (proxyRes) => {
    res.writeHead(proxyRes.statusCode!, proxyRes.headers);
    proxyRes.pipe(res);
  });
  proxyReq.on('error', () => res.headersSent ? res.destroy() : res.writeHead(502).end());
  req.pipe(proxyReq);
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`));
process.on('SIGTERM', () => process.exit(0));
