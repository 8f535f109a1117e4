// A free TCP port on loopback for a replica's server: the kernel picks one (listen on port 0) and
// the agent lets it go at once. Another process could take it in between; the replica's start
// then fails (its server cannot bind, or docker cannot publish) and is retried like any exit.
import { createServer } from 'node:net';

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the kernel'))));
    });
  });
}
