import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopback } from '../../src/lib/endpoint';

export async function tempStateDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'skr-identity-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Makes any TCP connection to a non-loopback host throw, so a credential that fell back to
 * the real IMDS (169.254.169.254) or to Entra fails the test instead of leaving the machine.
 * Returns the restore function.
 */
/** The host a Socket#connect call dials; undefined for a Unix socket. Node's default host is localhost. */
function dialledHost(args: unknown[]): string | undefined {
  // net.createConnection passes its normalised [options, callback] pair as the first argument.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: string; path?: string };
    return options.path ? undefined : (options.host ?? 'localhost');
  }
  if (typeof first === 'number') return typeof args[1] === 'string' ? args[1] : 'localhost';
  return undefined;
}

/**
 * Makes any TCP connection to a non-loopback host throw, so a credential that fell back to
 * the real IMDS (169.254.169.254) or to Entra fails the test instead of leaving the machine.
 * Returns the restore function.
 */
export function refuseNonLoopbackConnections(): () => void {
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
    const host = dialledHost(args);
    if (host !== undefined && !isLoopback(host)) throw new Error(`test tried to connect to non-loopback host ${host}`);
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  return () => {
    net.Socket.prototype.connect = original;
  };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  status?: number;
}

/** A loopback pass-through in front of the endpoint that records exactly what a client sends. */
export async function recordingProxy(target: string): Promise<{ url: string; seen: SeenRequest[]; close: () => Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const entry: SeenRequest = { method: req.method!, url: req.url!, headers: req.headers };
    seen.push(entry);
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      entry.status = answer.statusCode;
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => res.destroy(error));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Variables that would make @azure/identity pick another source or credential than the one under test. */
const IDENTITY_VARIABLES = [
  'AZURE_POD_IDENTITY_AUTHORITY_HOST',
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'IDENTITY_SERVER_THUMBPRINT',
  'IMDS_ENDPOINT',
  'MSI_ENDPOINT',
  'MSI_SECRET',
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_USERNAME',
  'AZURE_TOKEN_CREDENTIALS',
];

/** Clears the identity variables, sets `values`, and returns the function that puts everything back. */
export function setIdentityEnv(values: Record<string, string>): () => void {
  const saved = new Map(IDENTITY_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of IDENTITY_VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
