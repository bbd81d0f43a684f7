// Binding a server: resolves with the bound port (port 0: an ephemeral one), rejects with the
// bind error (EADDRINUSE carries .port and .address, for the caller to name the setting).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
