import { createHttpGetter, HttpGetFailure, type HttpGetterOptions } from '../../src/lib/http-getter';
import type { RetryPolicy } from '../../src/lib/http';
import { scripted, startServer, type LocalServer } from '../snp/certs/local-server';

/** The getter the certificate sources are given, with the test's timeout and retry policy over the shared defaults. */
function httpGet(url: string, headers: Record<string, string>, options: Partial<RetryPolicy> & { timeoutMs?: number } = {}): Promise<Buffer> {
  const { timeoutMs, ...retry } = options;
  const settings: HttpGetterOptions = { retry: { retries: 3, baseDelayMs: 200, maxDelayMs: 5_000, ...retry }, ...(timeoutMs ? { timeoutMs } : {}) };
  return createHttpGetter(settings).get(url, headers);
}

describe("the certificate sources' HTTP getter retries only what another attempt can fix", () => {
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function recorder() {
    const sleeps: number[] = [];
    return { sleeps, sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 };
  }

  it('retries 503 with growing backoff, then returns the body', async () => {
    server = await startServer(scripted([503, 503, 200], 'ok'));
    const r = recorder();
    const body = await httpGet(`${server.url}/x`, {}, { ...r, baseDelayMs: 100 });
    expect(body.toString()).toBe('ok');
    expect(server.requests).toHaveLength(3);
    // full jitter, random*step with random 0.5: 50 then 100
    expect(r.sleeps).toEqual([50, 100]);
  });

  it('honours Retry-After on 429', async () => {
    server = await startServer(scripted([[429, { 'Retry-After': '7' }], 200], 'ok'));
    const r = recorder();
    await httpGet(`${server.url}/x`, {}, { ...r, baseDelayMs: 100, maxDelayMs: 30_000 });
    expect(r.sleeps).toEqual([7000]);
  });

  it('gives up when Retry-After is longer than it is willing to wait', async () => {
    server = await startServer(scripted([[429, { 'Retry-After': '3600' }], 200], 'ok'));
    const r = recorder();
    await expect(httpGet(`${server.url}/x`, {}, { ...r, maxDelayMs: 30_000 })).rejects.toThrow(/^HTTP 429 from /);
    expect(server.requests).toHaveLength(1);
  });

  it.each([400, 403, 404])('does not retry %i', async (status) => {
    server = await startServer(scripted([status, 200], 'ok'));
    const r = recorder();
    const failure = await httpGet(`${server.url}/x`, {}, r).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HttpGetFailure);
    expect((failure as HttpGetFailure).status).toBe(status);
    expect(server.requests).toHaveLength(1);
    expect(r.sleeps).toEqual([]);
  });

  it('stops after the configured retries', async () => {
    server = await startServer(scripted([500], 'ok'));
    const r = recorder();
    await expect(httpGet(`${server.url}/x`, {}, { ...r, retries: 2 })).rejects.toThrow(/^HTTP 500 from /);
    expect(server.requests).toHaveLength(3);
  });

  it('times out a hung attempt and retries it', async () => {
    let n = 0;
    server = await startServer((_req, res) => {
      if (n++ === 0) return; // never answers
      res.end('late but fine');
    });
    const r = recorder();
    const body = await httpGet(`${server.url}/x`, {}, { ...r, timeoutMs: 200 });
    expect(body.toString()).toBe('late but fine');
    expect(r.sleeps).toHaveLength(1);
  });

  it('reports a timeout when every attempt hangs', async () => {
    server = await startServer(() => undefined);
    await expect(httpGet(`${server.url}/x`, {}, { ...recorder(), timeoutMs: 100, retries: 1 })).rejects.toThrow(/timed out after 100 ms.*gave up after 2/);
  });

  it('retries a refused connection as a network error', async () => {
    server = await startServer(() => undefined);
    const url = server.url;
    await server.close();
    server = undefined;
    const r = recorder();
    await expect(httpGet(`${url}/x`, {}, { ...r, retries: 1 })).rejects.toThrow(/ECONNREFUSED.*gave up after 2/);
    expect(r.sleeps).toHaveLength(1);
  });
});
