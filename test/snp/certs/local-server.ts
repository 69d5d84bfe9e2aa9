import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** Path and query of every request, in order. */
  requests: string[];
  /** Headers of every request, in order. */
  headers: IncomingMessage['headers'][];
  close(): Promise<void>;
}

/** An HTTP server on loopback, port chosen by the kernel: the only network tests touch. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer> {
  const requests: string[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    headers.push(req.headers);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers each request with the next status in `statuses` (the last repeats), body on 200. */
export function scripted(statuses: (number | [number, Record<string, string>])[], body: Buffer | string) {
  let n = 0;
  return (_req: IncomingMessage, res: ServerResponse) => {
    const step = statuses[Math.min(n++, statuses.length - 1)]!;
    const [status, extra] = Array.isArray(step) ? step : [step, {}];
    res.writeHead(status, extra);
    res.end(status === 200 ? body : '');
  };
}
