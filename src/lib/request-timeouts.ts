/** A request carries at most a few hundred KiB of evidence or keys: no honest client needs longer to send one. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Node server options so that a request (headers and body) must arrive whole within `ms`: a
 * client trickling bytes cannot hold a connection for Node's default five minutes. The server
 * then answers 408 (src/lib/http-errors.ts, answerUnparsableRequests) and closes the connection.
 */
export function requestTimeouts(ms: number = DEFAULT_REQUEST_TIMEOUT_MS): { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number } {
  return { requestTimeout: ms, headersTimeout: ms, connectionsCheckingInterval: Math.min(ms / 4, 30_000) };
}
