/**
 * How the certificate sources fetch over HTTP, as go-sev-guest's `Getter`: one GET that
 * resolves with a 200's body, or rejects once its retries are spent with an Error whose
 * message names the status or transport failure and the URL, never the body. snp defines the
 * shape and its callers pass the implementation (src/lib/http-getter.ts), so snp depends on no
 * HTTP client of ours and holds no defaults of its own.
 */
export interface HttpGetter {
  get(url: string, headers: Record<string, string>): Promise<Buffer>;
}
