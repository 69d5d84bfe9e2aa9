import { httpRequestWithRetry, TransportError } from '../../src/lib/http';
import { scripted, startServer, type LocalServer } from '../snp/certs/local-server';

describe('httpRequestWithRetry with a deadline instead of a retry count', () => {
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('retries a transient status until the deadline, saying why each time, then returns the last answer', async () => {
    server = await startServer(scripted([503], 'busy'));
    const reasons: string[] = [];
    const response = await httpRequestWithRetry(`${server.url}/x`, {}, { retries: Infinity, baseDelayMs: 20, maxDelayMs: 50, deadlineMs: 300, onRetry: (reason) => reasons.push(reason) });
    expect(response.status).toBe(503);
    expect(server.requests.length).toBeGreaterThan(1);
    expect(reasons).toHaveLength(server.requests.length - 1);
    expect(new Set(reasons)).toEqual(new Set(['HTTP 503']));
  });

  it('returns the first good answer before the deadline', async () => {
    server = await startServer(scripted([503, 503, 200], 'ok'));
    const response = await httpRequestWithRetry(`${server.url}/x`, {}, { retries: Infinity, baseDelayMs: 10, maxDelayMs: 20, deadlineMs: 60_000 });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok');
    expect(server.requests).toHaveLength(3);
  });

  it('throws the transport failure once the deadline has passed', async () => {
    server = await startServer(scripted([200], 'ok'));
    const url = `${server.url}/x`;
    await server.close();
    server = undefined;
    const reasons: string[] = [];
    const failure = await httpRequestWithRetry(url, {}, { retries: Infinity, baseDelayMs: 20, maxDelayMs: 50, deadlineMs: 200, onRetry: (reason) => reasons.push(reason) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransportError);
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons[0]).toMatch(/ECONNREFUSED/);
  });

  it('makes one attempt even with no time to wait', async () => {
    server = await startServer(scripted([503], 'busy'));
    const response = await httpRequestWithRetry(`${server.url}/x`, {}, { retries: Infinity, baseDelayMs: 20, maxDelayMs: 50, deadlineMs: 0 });
    expect(response.status).toBe(503);
    expect(server.requests).toHaveLength(1);
  });
});
