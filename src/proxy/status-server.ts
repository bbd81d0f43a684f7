// The proxy's status listener: Prometheus metrics at /metrics, off the public port (they name
// every project and deployment with traffic), bound to 127.0.0.1 unless KEYGATE_STATUS_HOST says
// otherwise. Health and readiness stay on the proxy port, where load balancers look.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { listen } from '../runtime/listen.ts';
import { sendMetrics } from '../runtime/metrics-response.ts';

export interface StatusServer {
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
}

export function createStatusServer(deps: { host: string; port: number; registry: Registry; log: Logger }): StatusServer {
  const { registry } = deps;
  const log = deps.log.child({ component: 'status' });

  function onRequest(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('not found\n');
      return;
    }
    sendMetrics(res, registry, (error) => log.error({ err: error.message }, 'metrics collection failed'));
  }

  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, onRequest);

  return {
    async start() {
      const port = await listen(server, deps.port, deps.host);
      log.info({ host: deps.host, port }, 'status listener (/metrics) listening');
      return { port };
    },
    stop() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
