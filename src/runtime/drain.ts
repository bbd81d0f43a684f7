// Stopping a node:http server without cutting its requests in flight: no new connections, each
// connection closed as soon as its last request has been answered, and whatever is still open
// after `drainMs` closed anyway. Used by the proxy and the control plane on SIGTERM.
import type { Server } from 'node:http';

/** How long requests in flight get to finish when a server stops. */
export const DEFAULT_DRAIN_MS = 10_000;

/**
 * Resolves once every connection of `server` is closed (`closed`: its 'close' event). `atDeadline`
 * closes what the server does not track as its HTTP connections (upgraded sockets) when the time
 * is up or everything else has gone.
 */
export async function drainConnections(server: Server, closed: Promise<void>, drainMs: number, atDeadline: () => void = () => {}): Promise<void> {
  if (!server.listening) {
    atDeadline();
    return;
  }
  server.close();
  // Keep-alive connections whose last request finished are closed as they become idle.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise((resolve) => (timer = setTimeout(resolve, drainMs)))]);
  clearTimeout(timer);
  clearInterval(sweep);
  server.closeAllConnections();
  atDeadline();
  await closed;
}
