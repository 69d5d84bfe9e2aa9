import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, Response } from 'express';
import { BodyTooLarge, InvalidRequest, SkrError, UnsupportedMediaType, type ErrorDetails } from '../errors';

/**
 * Errors Express and body-parser raise carry an HTTP `status` but no code: a bad
 * Content-Encoding, an undecodable path, an unsupported charset. They are the client's fault,
 * so they become a 4xx with a stable code rather than falling through to a 500.
 */
function clientErrorOf(error: unknown): unknown {
  if (error instanceof SkrError) return error;
  const status = (error as { status?: unknown; statusCode?: unknown }).status ?? (error as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return error;
  if (status === 413) return new BodyTooLarge('the limit');
  if (status === 415) return new UnsupportedMediaType();
  return new InvalidRequest('the request cannot be read');
}

/** How one service answers errors: its wire envelope and its error for a malformed request. */
export interface ErrorEnvelope {
  /** Writes `error` (an SkrError, or anything else as a bare 500) in the service's envelope. */
  send(res: Response, error: unknown): void;
  /** The service's error for a request that breaks its route's schema or is not JSON. */
  invalid(message: string, details?: ErrorDetails): SkrError;
}

/** body-parser's refusals of a body it cannot decode: the client sent something that is not JSON text. */
const UNREADABLE_BODY = new Set(['entity.parse.failed', 'encoding.unsupported', 'charset.unsupported']);

/** What a failed request becomes on the wire: body-parser's refusals mapped once, for every service. */
export function requestErrorOf(error: unknown, bodyLimit: string | number, envelope: Pick<ErrorEnvelope, 'invalid'>): unknown {
  const type = (error as { type?: unknown } | undefined)?.type;
  if (type === 'entity.too.large') return new BodyTooLarge(bodyLimit);
  if (typeof type === 'string' && UNREADABLE_BODY.has(type)) return envelope.invalid('the request body is not JSON');
  return clientErrorOf(error);
}

/** The last handler of a service's app: every error leaves in the service's envelope. */
export function errorHandler(envelope: ErrorEnvelope, bodyLimit: string | number = 'the limit'): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => envelope.send(res, requestErrorOf(error, bodyLimit, envelope));
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
