import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, Response } from 'express';
import { BodyTooLarge, InvalidRequest, RequestTimeout, SkrError, UnsupportedMediaType, type ErrorDetails } from '../errors';

/** How one service answers errors: its wire envelope and its error for a malformed request. */
export interface ErrorEnvelope {
  /** Writes `error` (an SkrError, or anything else as a bare 500) in the service's envelope. */
  send(res: Response, error: unknown): void;
  /** The service's error for a request that breaks its route's schema or is not JSON. */
  invalid(message: string, details?: ErrorDetails): SkrError;
}

/** body-parser's refusals of a body it cannot decode: the client sent something that is not JSON text. */
const UNREADABLE_BODY = new Set(['entity.parse.failed', 'encoding.unsupported', 'charset.unsupported']);

/**
 * What a failed request becomes on the wire, the one place for every service: body-parser's
 * refusals (a body over the limit, one that is not JSON) and the other errors Express and
 * body-parser raise with an HTTP `status` but no code — a bad Content-Encoding, an undecodable
 * path. Those are the client's fault, so they become a 4xx with a stable code rather than
 * falling through to a 500.
 */
function requestErrorOf(error: unknown, bodyLimit: string | number, envelope: Pick<ErrorEnvelope, 'invalid'>): unknown {
  if (error instanceof SkrError) return error;
  const { type, status, statusCode } = (error ?? {}) as { type?: unknown; status?: unknown; statusCode?: unknown };
  const httpStatus = status ?? statusCode;
  if (type === 'entity.too.large' || httpStatus === 413) return new BodyTooLarge(bodyLimit);
  if (typeof type === 'string' && UNREADABLE_BODY.has(type)) return envelope.invalid('the request body is not JSON');
  if (typeof httpStatus !== 'number' || httpStatus < 400 || httpStatus >= 500) return error;
  if (httpStatus === 415) return new UnsupportedMediaType();
  return new InvalidRequest('the request cannot be read');
}

/** The last handler of a service's app: every error leaves in the service's envelope. */
export function errorHandler(envelope: ErrorEnvelope, bodyLimit: string | number = 'the limit'): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => envelope.send(res, requestErrorOf(error, bodyLimit, envelope));
}

/** What Node refuses before any route sees the request, by its stable code. */
export type UnparsableCode = 'headers_too_large' | 'request_timeout' | 'invalid_request';

function unparsable(error: NodeJS.ErrnoException): { status: 400 | 408 | 431; code: UnparsableCode; message: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'headers_too_large', message: 'the request headers are too large' };
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: RequestTimeout.code, message: new RequestTimeout().message };
  return { status: 400, code: 'invalid_request', message: 'the request cannot be parsed' };
}

/**
 * Answers what Node's HTTP parser refuses before any route sees it — headers over the size
 * limit (431), a request that did not arrive within the server's request timeout (408,
 * src/lib/request-timeouts.ts), a malformed request line (400) — in the service's own JSON
 * envelope instead of a bare status line. `envelope` builds the body from the status, a message
 * and the stable code.
 */
export function answerUnparsableRequests(server: Server, envelope: (status: 400 | 408 | 431, message: string, code: UnparsableCode) => unknown): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const { status, code, message } = unparsable(error);
    // A HEAD request gets the status and headers only; its client reads no body.
    const head = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    const body = head ? '' : JSON.stringify(envelope(status, message, code));
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
}
