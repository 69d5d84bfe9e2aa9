import type { Server } from 'node:http';

/**
 * Closing an HTTP(S) server without cutting answers short: new connections are refused and
 * idle keep-alive sockets closed at once, requests in progress get up to `graceMs` to finish
 * (their answers and audit entries with them), then every socket is closed.
 */
export function gracefulCloser(server: Server): (graceMs?: number) => Promise<void> {
  let inProgress = 0;
  let drained: (() => void) | undefined;
  server.on('request', (_req, res) => {
    inProgress++;
    res.once('close', () => {
      if (--inProgress === 0) drained?.();
    });
  });
  return async (graceMs = 5_000) => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inProgress > 0) {
      await new Promise<void>((resolve) => {
        drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    server.closeAllConnections();
    await closed;
  };
}
