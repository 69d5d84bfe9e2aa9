import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { raw } from './raw';

export interface Endpoints {
  kms: string;
  identity: string;
  caCertFile: string;
  officer: { endpoint: string; headerFile: string };
}

const REGISTER = join(__dirname, 'fixtures', 'ts-register.js');
const SERVE = join(__dirname, 'fixtures', 'kms-serve.ts');

/** Starts `skr kms --state-dir D` in a child process and waits for its endpoints.json. */
export async function spawnKms(stateDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; endpoints: Endpoints; stdout: () => string }> {
  const endpointsFile = join(stateDir, 'endpoints.json');
  const previous = await readFile(endpointsFile, 'utf8').catch(() => undefined);
  const child = spawn(process.execPath, ['-r', REGISTER, '-e', `require(${JSON.stringify(SERVE)})`, '--', '--state-dir', stateDir, ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = await readFile(endpointsFile, 'utf8').catch(() => undefined);
    if (text && text !== previous && stdout.includes('\n')) return { child, endpoints: JSON.parse(text) as Endpoints, stdout: () => stdout };
    if (child.exitCode !== null) throw new Error(`skr kms exited ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`skr kms did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A token for the identity endpoint's default principal, fetched as IMDS clients do. */
export async function imdsToken(identity: string, resource = 'https://vault.azure.net'): Promise<string> {
  const res = await fetch(`${identity}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`, { headers: { Metadata: 'true' } });
  if (!res.ok) throw new Error(`identity endpoint answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A token for the officer principal, fetched as App Service clients do: the endpoint and the header file named in endpoints.json. */
export async function officerToken(endpoints: Endpoints, resource = 'https://vault.azure.net'): Promise<string> {
  const header = await readFile(endpoints.officer.headerFile, 'utf8');
  const res = await fetch(`${endpoints.officer.endpoint}?api-version=2019-08-01&resource=${encodeURIComponent(resource)}`, { headers: { 'X-IDENTITY-HEADER': header } });
  if (!res.ok) throw new Error(`identity endpoint answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** One write to the KMS: method, path (with its api-version) and JSON body, if any. */
export type Write = [method: string, path: string, body?: string];

/**
 * `inFlight` writers send `write(i)` for i = 0, 1, … to the KMS `kms` until `killAfter` writes
 * were acknowledged, then SIGKILL it mid-stream and wait for it to die. Answers the key and
 * version of every acknowledged (200) write; a write whose connection died with the process
 * was never acknowledged.
 */
export async function writeUntilKilled(
  kms: { child: ChildProcess; endpoints: Endpoints },
  ca: string,
  token: string,
  write: (i: number) => Write,
  options: { inFlight: number; killAfter: number },
): Promise<[name: string, version: string][]> {
  const acknowledged: [name: string, version: string][] = [];
  let killed = false;
  let n = 0;
  const writer = async () => {
    while (!killed) {
      const [method, path, body] = write(n++);
      try {
        const res = await raw(kms.endpoints.kms, ca, method, path, { token, ...(body ? { body } : {}) });
        if (res.status === 200) acknowledged.push((res.body.key.kid as string).split('/').slice(-2) as [string, string]);
        if (acknowledged.length === options.killAfter && !killed) {
          killed = true;
          kms.child.kill('SIGKILL');
        }
      } catch {
        // the connection died with the process: this write was never acknowledged
      }
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, writer));
  await exited(kms.child);
  return acknowledged;
}
