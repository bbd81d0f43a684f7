// Answers a Prometheus scrape from a registry: what the control plane's /metrics and the proxy's
// status listener both serve.
import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export function sendMetrics(res: ServerResponse, registry: Registry, onError: (error: Error) => void): void {
  registry.metrics().then(
    (body) => {
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      res.end(body);
    },
    (error: Error) => {
      onError(error);
      if (!res.headersSent) res.writeHead(500).end();
    },
  );
}
