import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serve, type ServiceEndpoints } from './serve';

/**
 * `skr dev` and `skr kms` started as users start them (the CLI's entry, on a fresh state
 * directory): what their state directory holds is for the service's user only, and a local
 * process of another user (`nobody`) gets release rights at most — no Crypto Officer.
 */
const run = promisify(execFile);
const API = 'api-version=7.4';
const AS_ROOT = process.getuid?.() === 0;

/** Another authority's policy: what an attacker would set to release the key to itself. */
const HOSTILE_POLICY = { version: '1.0.0', anyOf: [{ authority: 'https://attacker.example', allOf: [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: true }] }] };
const policyBody = JSON.stringify({ release_policy: { data: Buffer.from(JSON.stringify(HOSTILE_POLICY)).toString('base64url'), contentType: 'application/json; charset=utf-8' } });
const EXPORTABLE_KEY = JSON.stringify({
  kty: 'oct-HSM',
  key_size: 256,
  attributes: { exportable: true },
  release_policy: {
    data: Buffer.from(JSON.stringify({ version: '1.0.0', anyOf: [{ authority: 'https://verifier.example', allOf: [{ claim: 'x-ms-sevsnpvm-vmpl', equals: 0 }] }] })).toString('base64url'),
  },
});

function kmsCall(endpoints: ServiceEndpoints, ca: string, method: string, path: string, token: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${endpoints.kms}${path}`, { method, ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function officerToken(endpoints: ServiceEndpoints): Promise<string> {
  const header = await readFile(endpoints.officer.headerFile, 'utf8');
  const res = await fetch(`${endpoints.officer.endpoint}?api-version=2019-08-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': header } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Every entry under `dir` with its mode, directories included. */
async function walk(dir: string): Promise<{ path: string; mode: number; directory: boolean }[]> {
  const found: { path: string; mode: number; directory: boolean }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    found.push({ path, mode: (await stat(path)).mode & 0o777, directory: entry.isDirectory() });
    if (entry.isDirectory()) found.push(...(await walk(path)));
  }
  return found;
}

/**
 * What a local process of another user tries, written as it would be: IMDS with
 * `Metadata: true`, then a new release policy and a new key with that token, the officer by
 * its client id, and the identity header's file.
 */
const ATTACKER = `
const https = require('node:https');
const fs = require('node:fs');
const [endpoints, ca, officerClientId, key, policyBody, keyBody] = JSON.parse(process.argv[1]);
const kms = (method, path, token, body) => new Promise((resolve) => {
  const req = https.request(endpoints.kms + path, { method, ca, headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
  req.on('error', (e) => resolve(e.code));
  req.end(body);
});
const imds = (extra) => fetch(endpoints.identity + '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net' + extra, { headers: { Metadata: 'true' } });
(async () => {
  const got = await imds('');
  const token = (await got.json()).access_token;
  const out = { uid: process.getuid(), token: got.status };
  out.updatePolicy = await kms('PATCH', '/keys/' + key + '?${API}', token, policyBody);
  out.createKey = await kms('POST', '/keys/attacker-key/create?${API}', token, keyBody);
  out.officerByClientId = (await imds('&client_id=' + officerClientId)).status;
  try { fs.readFileSync(endpoints.officer.headerFile); out.headerFile = 'read'; } catch (e) { out.headerFile = e.code; }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function asNobody(args: unknown[]): Promise<Record<string, unknown>> {
  const { stdout } = await run('runuser', ['-u', 'nobody', '--', process.execPath, '-e', ATTACKER, JSON.stringify(args)], { cwd: '/' });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe.each([
  ['dev', ['--port', '0']],
  ['kms', ['--port', '0']],
] as const)('skr %s on a fresh state directory', (command, args) => {
  let stateDir: string;
  let service: Awaited<ReturnType<typeof serve>>;
  let ca: string;
  /** A releasable key the officer made: the demo key under skr dev, one of this test's under skr kms. */
  let key: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), `skr-${command}-state-`));
    service = await serve(command, stateDir, [...args]);
    ca = await readFile(service.endpoints.caCertFile, 'utf8');
    key = command === 'dev' ? 'demo' : 'officer-made';
    if (command === 'kms') expect(await kmsCall(service.endpoints, ca, 'POST', `/keys/${key}/create?${API}`, await officerToken(service.endpoints), EXPORTABLE_KEY)).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  test('every file under the state directory, SQLite WAL files included, has no group or other bits; every directory is 0700', async () => {
    if (command === 'dev') {
      const res = await fetch(`${service.endpoints.sidecar}/key/release`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kid":"demo"}' });
      expect(res.status).toBe(200);
    }
    const entries = await walk(stateDir);
    // The files a reader would want: the KMS's databases with their WAL, its keys and secrets.
    const names = entries.map((e) => e.path.slice(stateDir.length + 1));
    expect(names).toEqual(expect.arrayContaining(['endpoints.json', 'identity/identity-header', 'kms/keys.sqlite', 'kms/keys.sqlite-wal', 'kms/audit.sqlite-wal', 'kms/master.key']));
    const open = entries.filter((e) => (e.directory ? e.mode !== 0o700 : (e.mode & 0o077) !== 0));
    expect(open.map((e) => `${e.path.slice(stateDir.length + 1)} ${e.mode.toString(8)}`)).toEqual([]);
  });

  test("endpoints.json names the officer's App Service endpoint and a header file owned by the service's user", async () => {
    const { officer } = service.endpoints;
    expect(officer).toEqual({ endpoint: `${service.endpoints.identity}/msi/token`, headerFile: join(stateDir, 'identity', 'identity-header') });
    const info = await stat(officer.headerFile);
    expect({ mode: info.mode & 0o777, uid: info.uid }).toEqual({ mode: 0o600, uid: process.getuid!() });
  });

  // The attacker must be another user: CI runs as root and becomes `nobody` with runuser.
  (AS_ROOT ? test : test.skip)(
    AS_ROOT
      ? 'a local process of another user gets release rights only: policy update and create are 403, no officer token, no header file'
      : 'a local process of another user gets release rights only (SKIPPED: needs root to run the attacker as nobody with runuser; CI runs it)',
    async () => {
      const header = await readFile(service.endpoints.officer.headerFile, 'utf8');
      const officerClientId = (
        (await (await fetch(`${service.endpoints.officer.endpoint}?api-version=2019-08-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': header } })).json()) as {
          client_id: string;
        }
      ).client_id;
      const seen = await asNobody([service.endpoints, ca, officerClientId, key, policyBody, EXPORTABLE_KEY]);
      expect(seen).toEqual({ uid: 65534, token: 200, updatePolicy: 403, createKey: 403, officerByClientId: 403, headerFile: 'EACCES' });
      // The same requests with the officer's token succeed: only the role stood in the way.
      expect(await kmsCall(service.endpoints, ca, 'PATCH', `/keys/${key}?${API}`, await officerToken(service.endpoints), policyBody)).toBe(200);
    },
    60_000,
  );
});
