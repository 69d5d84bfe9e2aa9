import http from 'node:http';
import https from 'node:https';
import { outboundTrust } from '../tls/trust';

/**
 * One HTTP exchange with a private CA allowed, a timeout covering the whole exchange and a
 * body cap — what the MAA client, the token verifier and the sidecar need and `fetch` in
 * Node 20 cannot give without extra dependencies (per-request CA) — and the one retrying
 * client built on it, with the one set of defaults every outbound caller shares.
 */
export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** CA certificates (PEM) trusted for https URLs besides the roots and NODE_EXTRA_CA_CERTS (see tls/trust). */
  ca?: string | string[];
  /** The whole exchange, per attempt; default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Default DEFAULT_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Every answer our callers read (tokens, discovery and key documents, certificates, CRLs) is far smaller. */
const DEFAULT_MAX_BODY_BYTES = 1 << 20;

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A transport failure (no HTTP status): connection refused or reset, timeout, oversized body. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export function httpRequest(url: string, request: HttpRequest = {}): Promise<HttpResponse> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.reject(new TransportError(`unsupported URL scheme ${target.protocol}`));
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBody = request.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: request.method ?? 'GET',
        headers: request.body === undefined ? request.headers : { 'content-length': Buffer.byteLength(request.body), ...request.headers },
        ...(target.protocol === 'https:' ? { agent: outboundTrust(request.ca).agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) {
            req.destroy(new TransportError(`response body exceeds ${maxBody} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (error) => reject(new TransportError(error.message)));
      },
    );
    const timer = setTimeout(() => req.destroy(new TransportError(`timed out after ${timeoutMs} ms`, true)), timeoutMs);
    req.on('error', (error) => reject(error instanceof TransportError ? error : new TransportError(error.message)));
    req.on('close', () => clearTimeout(timer));
    req.end(request.body);
  });
}

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  baseDelayMs: number;
  /** Ceiling of one backoff step, and of a Retry-After worth waiting for. */
  maxDelayMs: number;
  /**
   * Stop once this long has passed since the first attempt, even with retries left; each
   * attempt's timeout is cut to the time left (never below MIN_ATTEMPT_MS). For a caller that
   * waits for a service to come up rather than counting attempts.
   */
  deadlineMs?: number;
  /** Told why another attempt is needed and how long the deadline leaves, before each wait. */
  onRetry?: (reason: string, leftMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 200, maxDelayMs: 5_000 };

/** Only answers another attempt can change: 408, 429 and 5xx; transport failures too. */
export function isTransient(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function retryAfterMs(headers: http.IncomingHttpHeaders): number | undefined {
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The shortest timeout an attempt gets near a deadline: less could not finish a TLS handshake. */
const MIN_ATTEMPT_MS = 1_000;

/**
 * Sends the request, retrying transient failures with exponential backoff and full jitter,
 * honouring Retry-After. Returns the last response (which may be a transient status once
 * retries are spent, or when Retry-After asks for longer than the policy's ceiling: an attempt
 * sooner would be refused again, and rate-limited services such as AMD KDS count it against
 * us); throws the last TransportError.
 */
export async function httpRequestWithRetry(url: string, request: HttpRequest, policy: RetryPolicy = DEFAULT_RETRY): Promise<HttpResponse> {
  const sleep = policy.sleep ?? defaultSleep;
  const random = policy.random ?? Math.random;
  const deadline = policy.deadlineMs === undefined ? Infinity : Date.now() + policy.deadlineMs;
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    const left = () => deadline - Date.now();
    const spent = () => attempt >= policy.retries || left() <= 0;
    let wait: number | undefined;
    let reason: string;
    try {
      const response = await httpRequest(url, { ...request, timeoutMs: Math.min(timeoutMs, Math.max(MIN_ATTEMPT_MS, left())) });
      if (!isTransient(response.status) || spent()) return response;
      wait = retryAfterMs(response.headers);
      if (wait !== undefined && wait > policy.maxDelayMs) return response;
      reason = `HTTP ${response.status}`;
    } catch (error) {
      if (!(error instanceof TransportError) || spent()) throw error;
      reason = error.message;
    }
    policy.onRetry?.(reason, left());
    const backoff = random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
    await sleep(Math.min(wait ?? backoff, left()));
  }
}
