import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openVirtualDevice, type VirtualDevice } from '../../src/snp/device/virtual';
import { mintCrl } from '../../src/snp/virtual';
import { attestBody } from '../maa/virtual-evidence';
import { runCli } from './run-cli';

/**
 * `skr verifier` as deployed, a separate process: `--crl-file` with a CRL of the virtual ARK that
 * revokes the virtual ASK refuses the virtual evidence with cert_revoked in MAA's error envelope;
 * an empty CRL of that ARK lets it through; with no CRL file the virtual root is not checked
 * (and nothing is fetched: virtual chains have no KDS).
 */
const BIN = join(__dirname, '..', '..', 'bin', 'skr.js');
const ATTEST = '/attest/SevSnpVm?api-version=2022-08-01';
const runtime = { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'k' }] };

let stateDir: string;
let guest: VirtualDevice;
const children: ChildProcess[] = [];

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'skr-verifier-crl-'));
  guest = await openVirtualDevice(stateDir, {});
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))))));
});

/** Starts `skr verifier --http --trust-virtual ...extra` and waits for the JSON it prints. */
async function verifier(extra: string[]): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'verifier', '--http', '--port', '0', '--state-dir', stateDir, '--trust-virtual', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      try {
        const { verifier: started } = JSON.parse(stdout) as { verifier: { url: string } };
        clearInterval(poll);
        resolve(started.url);
      } catch {
        if (child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`skr verifier exited ${child.exitCode}: ${stdout}${stderr}`));
        }
      }
    }, 50);
  });
}

function crlFile(name: string, revokeAsk: boolean): string {
  const now = Date.now();
  const der = mintCrl(guest.pki.ark, { revoked: revokeAsk ? [guest.pki.ask.cert] : [], thisUpdate: new Date(now - 3600_000), nextUpdate: new Date(now + 7 * 86400_000) });
  const path = join(stateDir, name);
  writeFileSync(path, name.endsWith('.pem') ? `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n` : der);
  return path;
}

async function attest(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${ATTEST}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(await attestBody(guest, runtime)) });
  return { status: res.status, body: await res.json() };
}

test('a CRL file revoking the virtual ASK refuses the virtual evidence with cert_revoked', async () => {
  const url = await verifier(['--crl-file', crlFile('revoking.der', true)]);
  const { status, body } = await attest(url);
  expect(status).toBe(400);
  expect(body).toEqual({ error: { code: 'cert_revoked', message: expect.stringMatching(/ASK certificate \(serial [0-9a-f]+\) is revoked/) } });
}, 60_000);

test('an empty CRL file of the virtual ARK (PEM) lets the same evidence through', async () => {
  const url = await verifier(['--crl-file', crlFile('empty.pem', false)]);
  const { status, body } = await attest(url);
  expect(status).toBe(200);
  expect(typeof body.token).toBe('string');
}, 60_000);

test('without a CRL file the virtual root is not checked: revocation on by default still accepts it offline', async () => {
  const url = await verifier([]);
  expect((await attest(url)).status).toBe(200);
}, 60_000);

test.each([
  [['--check-revocation', 'maybe'], /on or off/],
  [['--check-revocation', 'off', '--crl-file', '/nonexistent'], /need --check-revocation on/],
  [['--kds-url', 'http://127.0.0.1:1'], /https/],
])('%j is refused at start', (args, message) => {
  const result = runCli(['verifier', '--http', '--port', '0', '--state-dir', stateDir, ...args]);
  expect(result.status).not.toBe(0);
  expect(result.json.error).toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(message) });
});
