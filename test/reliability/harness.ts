import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { RunningVerifier } from '../../src/maa/service/server';
import type { RunningSidecar } from '../../src/sidecar/server';
import type { TlsMaterial } from '../../src/tls/certificates';
import { startTestVerifier } from '../maa/verifier-harness';
import { SIDECAR_OPENAPI as OPENAPI } from '../../src/sidecar/openapi';
import { startTestSidecar, virtualState } from '../sidecar/harness';

/**
 * Shared plumbing of the reliability suite: a loopback client that sends any bytes (supertest
 * would re-encode them), the honesty checks every hostile answer must pass, and a verifier plus
 * sidecar on the virtual device.
 */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One agent for the whole suite: thousands of properties must not exhaust ephemeral ports. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
afterAll(() => agent.destroy());

export function send(base: string, request: { method?: string; path: string; body?: string | Buffer; headers?: Record<string, string> }, timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(request.path, base);
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const req = http.request(
      url,
      {
        agent,
        method: request.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(body.length) }), ...request.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export const postJson = (base: string, path: string, value: unknown) => send(base, { path, body: JSON.stringify(value) });

/** postJson to a sidecar, whose answer's status must be documented for the route. */
export async function postToSidecar(base: string, path: string, value: unknown): Promise<RawResponse> {
  const res = await postJson(base, path, value);
  expectDocumented(path.split('?')[0]!, res);
  return res;
}

function parse(res: RawResponse): unknown {
  try {
    return JSON.parse(res.text);
  } catch {
    throw new Error(`answer ${res.status} is not JSON: ${res.text.slice(0, 200)}`);
  }
}

const CODE = /^[a-z][a-z0-9_]*$/;

/** The stable code of an error answer in the surface's own envelope (JSON, lower_snake_case code, a message). */
export function errorCode(res: RawResponse, surface: 'sidecar' | 'verifier', context = ''): string {
  const where = `${context} → ${res.status} ${res.text.slice(0, 300)}`;
  if (!String(res.headers['content-type']).startsWith('application/json')) throw new Error(`error without a JSON content type: ${where}`);
  const body = parse(res) as Record<string, unknown>;
  const code = surface === 'sidecar' ? body.code : (body.error as { code?: unknown } | undefined)?.code;
  const message = surface === 'sidecar' ? body.error : (body.error as { message?: unknown } | undefined)?.message;
  if (typeof code !== 'string' || !CODE.test(code) || typeof message !== 'string') throw new Error(`error without a stable code: ${where}`);
  return code;
}

/**
 * A hostile request must get an honest refusal: never a 5xx, JSON in the surface's own envelope
 * with a stable code. Returns the code (undefined for a 2xx).
 */
export function expectRefusal(res: RawResponse, surface: 'sidecar' | 'verifier', context = ''): string | undefined {
  if (res.status >= 500) throw new Error(`5xx for hostile input: ${context} → ${res.status} ${res.text.slice(0, 300)}`);
  return res.status < 400 ? undefined : errorCode(res, surface, context);
}

/** Whatever was sent before, the server still answers a plain request. */
export async function expectAlive(base: string, path: string): Promise<void> {
  const res = await send(base, { path });
  if (res.status >= 500 || res.status === 0) throw new Error(`${base}${path} no longer healthy: ${res.status}`);
}

export interface AttestStack {
  verifier: RunningVerifier;
  sidecar: RunningSidecar;
  close(): Promise<void>;
}

/** A verifier trusting a fresh virtual ARK, and a sidecar on that virtual device pointed at it. */
export async function startAttestStack(flags: Record<string, string> = {}, caPems: string[] = []): Promise<AttestStack> {
  const state = await virtualState();
  const verifier = await startTestVerifier({ trustedRoots: [state.root] });
  const sidecar = await startTestSidecar({ 'state-dir': state.stateDir, 'maa-endpoint': verifier.url, kds: 'false', ...flags }, { caPems });
  return {
    verifier,
    sidecar,
    close: async () => {
      await sidecar.close();
      await verifier.close();
    },
  };
}

/**
 * A loopback server answering every request with `handler`; counts what reached it. With `tls`
 * it is HTTPS on `localhost`, as the Key Vault SDK refuses plain HTTP to a key service.
 */
export async function startStub(handler: http.RequestListener, tls?: TlsMaterial): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const counted: http.RequestListener = (req, res) => {
    hits++;
    handler(req, res);
  };
  const server = tls ? https.createServer({ cert: tls.certPem, key: tls.keyPem }, counted) : http.createServer(counted);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${tls ? 'https://localhost' : 'http://127.0.0.1'}:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on: bound, noted and released, so connecting is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What the fault proxy does with one request: forward it (after `delayMs`), answer instead, or cut the connection. */
export type Fault = { delayMs?: number } & (
  { kind: 'forward'; rewrite?: (body: string) => string } | { kind: 'answer'; status: number; body?: string; headers?: Record<string, string> } | { kind: 'drop' }
);

export interface FaultProxy {
  url: string;
  /** Where forwarded requests go; set after start, so a service can name the proxy as its own URL. */
  target: string;
  fault(next: (path: string) => Fault): void;
  counts: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A loopback proxy whose behaviour tests change between requests: slow, failing, dropping or
 * rewriting answers. It counts requests by path so a test can see what was retried. It listens
 * on plain http; its target may be https (the KMS), trusted through `targetCa`.
 */
export async function startFaultProxy(targetCa?: string): Promise<FaultProxy> {
  let decide: (path: string) => Fault = () => ({ kind: 'forward' });
  const counts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const stub = await startStub((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const fault = decide(path);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (fault.kind === 'drop') {
          req.socket.destroy();
          return;
        }
        if (fault.kind === 'answer') {
          res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
          res.end(fault.body ?? JSON.stringify({ error: { code: 'InjectedFault', message: `injected ${fault.status}` } }));
          return;
        }
        const target = new URL(req.url ?? '/', proxy.target);
        const client = target.protocol === 'https:' ? https : http;
        const upstream = client.request(target, { method: req.method, headers: { ...req.headers, host: target.host }, ...(targetCa ? { ca: targetCa } : {}) }, (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            const text = Buffer.concat(body).toString('utf8');
            const out = fault.rewrite ? fault.rewrite(text) : text;
            res.writeHead(up.statusCode ?? 502, {
              'content-type': up.headers['content-type'] ?? 'application/json',
              // The Key Vault SDK learns its challenge from this header.
              ...(up.headers['www-authenticate'] ? { 'www-authenticate': up.headers['www-authenticate'] } : {}),
            });
            res.end(out);
          });
        });
        upstream.on('error', () => req.socket.destroy());
        upstream.end(Buffer.concat(chunks));
      }, fault.delayMs ?? 0);
      timers.add(timer);
    });
  });
  const proxy: FaultProxy = {
    url: stub.url,
    target: stub.url,
    fault: (next) => {
      decide = next;
    },
    counts,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      await stub.close();
    },
  };
  return proxy;
}

/** A sidecar answer's status must be one its OpenAPI document lists for the route. */
export function expectDocumented(path: string, res: RawResponse): void {
  const responses = (OPENAPI.paths as Record<string, { post?: { responses: Record<string, unknown> } }>)[path]?.post?.responses ?? {};
  expect([path, Object.keys(responses)]).toEqual([path, expect.arrayContaining([String(res.status)])]);
}
