/**
 * What an upstream said when it refused or failed: its HTTP status, and its own code and
 * message from an Azure-style error body `{"error":{"code","message"}}` — so a caller sees the
 * key service's or verifier's reason (a KMS's 501 NotImplemented is not a mystery). The text is
 * the upstream's, so it is cut to size, stripped of control characters, and anything shaped
 * like a bearer token or JWT is removed before it reaches a log or an answer.
 */
export interface UpstreamAnswer {
  status: number;
  code?: string;
  message?: string;
}

const MAX_CODE = 100;
const MAX_MESSAGE = 500;
const CODE = /^[A-Za-z0-9_.:-]+$/;
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer|PoP)\s+[^\s,"]+/gi;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]+/g;

function cleanMessage(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.replace(CONTROL, ' ').replace(JWT_SHAPED, '[redacted]').replace(BEARER, '$1 [redacted]').trim();
  if (!text) return undefined;
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

function cleanCode(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= MAX_CODE && CODE.test(value) ? value : undefined;
}

function errorOfBody(body: string | Buffer | undefined): { code?: unknown; message?: unknown } | undefined {
  if (body === undefined || body.length === 0) return undefined;
  try {
    const parsed = JSON.parse(body.toString()) as { error?: unknown };
    return typeof parsed.error === 'object' && parsed.error !== null ? (parsed.error as { code?: unknown; message?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The answer as the response's body states it. Only the body: a client library's own codes
 * (the Azure SDK's PARSE_ERROR) and messages are not the upstream's.
 */
export function upstreamAnswer(status: number, body: string | Buffer | undefined): UpstreamAnswer {
  const said = errorOfBody(body);
  const code = cleanCode(said?.code);
  const message = cleanMessage(said?.message);
  return { status, ...(code ? { code } : {}), ...(message ? { message } : {}) };
}

/** "HTTP 501 NotImplemented: <message>", for an error's own message. */
export function describeUpstreamAnswer(answer: UpstreamAnswer): string {
  return `HTTP ${answer.status}${answer.code ? ` ${answer.code}` : ''}${answer.message ? `: ${answer.message}` : ''}`;
}
