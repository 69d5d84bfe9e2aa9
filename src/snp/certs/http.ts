/**
 * The one HTTP GET the certificate sources share: a timeout per attempt, and retries with
 * exponential backoff and jitter only where another attempt can help (408, 429, 5xx, network
 * failures and timeouts). KDS rate-limits, so a Retry-After is honoured, and a 404 or other
 * 4xx is final. Messages carry the status and URL only: upstream bodies are never echoed.
 */
export interface HttpOptions {
  /** Per-attempt timeout; default 10 s. */
  timeoutMs?: number;
  /** Retries after the first attempt; default 3. */
  retries?: number;
  /** First backoff step; doubles each retry; default 500 ms. */
  baseDelayMs?: number;
  /** Ceiling of one backoff step, and of a Retry-After we are willing to wait; default 30 s. */
  maxDelayMs?: number;
  /** Injectable for tests; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable jitter source in [0, 1); default Math.random. */
  random?: () => number;
}

/** Why a GET failed, in a sentence fit for an error's details. */
export class HttpFailure extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

/** Certificates, chains, CRLs and THIM JSON are a few KiB; anything far larger is not one. */
const MAX_BODY = 1 << 20;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Retry-After is either delta-seconds or an HTTP date. */
function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

async function attempt(url: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; body?: Buffer; retryAfter?: string | null }> {
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new HttpFailure(`timed out after ${timeoutMs} ms`);
    throw new HttpFailure(`network error: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  if (response.status !== 200) {
    // Drain so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined);
    return { status: response.status, retryAfter: response.headers.get('retry-after') };
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY) throw new HttpFailure(`response of ${declared} bytes exceeds ${MAX_BODY}`, 200);
  try {
    const body = Buffer.from(await response.arrayBuffer());
    if (body.length > MAX_BODY) throw new HttpFailure(`response of ${body.length} bytes exceeds ${MAX_BODY}`, 200);
    return { status: 200, body };
  } catch (err) {
    if (err instanceof HttpFailure) throw err;
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new HttpFailure(`timed out after ${timeoutMs} ms`);
    throw new HttpFailure(`network error: ${(err as Error).message}`);
  }
}

/** GET `url`; resolves with the body of a 200, or rejects with an HttpFailure once retries are spent. */
export async function httpGet(url: string, headers: Record<string, string>, options: HttpOptions = {}): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  for (let n = 0; ; n++) {
    let failure: HttpFailure;
    let wait: number | undefined;
    try {
      const result = await attempt(url, headers, timeoutMs);
      if (result.body) return result.body;
      failure = new HttpFailure(`HTTP ${result.status} from ${url}`, result.status);
      if (!retryable(result.status)) throw failure;
      wait = retryAfterMs(result.retryAfter ?? null, Date.now());
    } catch (err) {
      if (!(err instanceof HttpFailure) || err.status !== undefined) throw err;
      failure = new HttpFailure(`${err.message} (${url})`);
    }
    if (n >= retries) throw new HttpFailure(`${failure.message}; gave up after ${n + 1} attempts`, failure.status);
    if (wait !== undefined && wait > maxDelayMs) {
      throw new HttpFailure(`${failure.message}; server asks to retry after ${Math.ceil(wait / 1000)} s`, failure.status);
    }
    const step = Math.min(maxDelayMs, baseDelayMs * 2 ** n);
    await sleep(Math.max(wait ?? 0, step / 2 + random() * (step / 2)));
  }
}
