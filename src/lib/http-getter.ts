import { DEFAULT_RETRY, httpRequestWithRetry, TransportError, type RetryPolicy } from './http';

/** Why a GET failed, fit for an error's details: the status or transport failure and the URL, never the body. */
export class HttpGetFailure extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HttpGetFailure';
  }
}

export interface HttpGetterOptions {
  /** Per attempt; default the shared client's (http.ts). */
  timeoutMs?: number;
  /** CA certificates (PEM) trusted for https URLs besides the system's (see tls/trust). */
  ca?: string | string[];
  retry?: RetryPolicy;
}

/**
 * The GET the attester's certificate sources are given (snp/certs `HttpGetter`): the one
 * retrying client of this file's sibling http.ts with its defaults, resolving with a 200's body
 * and rejecting with an HttpGetFailure for any other status or once transport retries are spent.
 */
export function createHttpGetter(options: HttpGetterOptions = {}): { get(url: string, headers: Record<string, string>): Promise<Buffer> } {
  const retry = options.retry ?? DEFAULT_RETRY;
  const request = { timeoutMs: options.timeoutMs, ...(options.ca ? { ca: options.ca } : {}) };
  return {
    async get(url, headers) {
      let response;
      try {
        response = await httpRequestWithRetry(url, { ...request, headers }, retry);
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        throw new HttpGetFailure(`${error.message} (${url}); gave up after ${retry.retries + 1} attempts`);
      }
      if (response.status !== 200) throw new HttpGetFailure(`HTTP ${response.status} from ${url}`, response.status);
      return response.body;
    },
  };
}
