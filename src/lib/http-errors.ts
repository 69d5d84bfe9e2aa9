import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { BodyTooLarge, InvalidRequest, SkrError, UnsupportedMediaType } from '../errors';

/**
 * Errors Express and body-parser raise carry an HTTP `status` but no code: a bad
 * Content-Encoding, an undecodable path, an unsupported charset. They are the client's fault,
 * so they become a 4xx with a stable code rather than falling through to a 500.
 */
export function clientErrorOf(error: unknown): unknown {
  if (error instanceof SkrError) return error;
  const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return error;
  if (status === 413) return new BodyTooLarge('the request body is too large');
  if (status === 415) return new UnsupportedMediaType('the request body encoding or charset is not supported');
  return new InvalidRequest('the request cannot be read');
}

/**
 * Answers what Node's HTTP parser refuses before any route sees it — headers over the size
 * limit, a malformed request line — in the service's own JSON envelope instead of a bare
 * status line. `envelope` builds the body from the status and a message.
 */
export function answerUnparsableRequests(server: Server, envelope: (status: 400 | 431, message: string) => unknown): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    // A HEAD request gets the status and headers only; its client reads no body.
    const head = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    const body = head ? '' : JSON.stringify(envelope(status, status === 431 ? 'the request headers are too large' : 'the request cannot be parsed'));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
