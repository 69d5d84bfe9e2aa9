import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { expectedReportData, snpEvidenceOf, startKbs, type KbsOptions, type RunningKbs } from '../../src/kbs';
import { teePubkeyOf, type TeePubkey } from '../../src/kbs/tee-pubkey';
import { parseAppraisalPolicy } from '../../src/maa/service';
import { configuredRoot } from '../../src/snp';
import { openVirtualDevice, type VirtualDevice } from '../../src/snp/device/virtual';

/** A virtual SEV-SNP guest in a fresh state directory. */
export async function virtualGuest(): Promise<VirtualDevice> {
  return openVirtualDevice(mkdtempSync(join(tmpdir(), 'skr-kbs-guest-')));
}

/** A KBS on 127.0.0.1 (plain HTTP) trusting `device`'s virtual ARK, with its own state directory. */
export async function startTestKbs(device: VirtualDevice, overrides: Partial<KbsOptions> = {}): Promise<RunningKbs> {
  return startKbs({
    stateDir: mkdtempSync(join(tmpdir(), 'skr-kbs-')),
    verifier: { policy: parseAppraisalPolicy('{}'), trustedRoots: [configuredRoot(device.pki.ark.pem)] },
    ...overrides,
  });
}

/** trustee's admin token: EdDSA over {iat, exp} with the KBS's admin key (the file it generated, unless `key`). */
export async function adminToken(kbs: RunningKbs, key?: KeyObject): Promise<string> {
  const privateKey = key ?? (await import('node:crypto')).createPrivateKey(readFileSync(kbs.adminKeyFile!));
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + 600)
    .sign(privateKey);
}

export async function admin(kbs: RunningKbs, method: string, path: string, body?: string | Buffer, key?: KeyObject): Promise<Response> {
  return fetch(`${kbs.url}${path}`, { method, headers: { authorization: `Bearer ${await adminToken(kbs, key)}` }, ...(body !== undefined ? { body } : {}) });
}

/** The release policy allowing tokens of this KBS for virtual TEEs (what the e2e resources use). */
export function virtualTeePolicy(kbs: RunningKbs, claim = 'submods.cpu0.ear.veraison.annotated-evidence.snp.x-skr-virtual-tee', equals: unknown = true): string {
  return JSON.stringify({ version: '1.0.0', anyOf: [{ authority: kbs.issuer, allOf: [{ claim, equals }] }] });
}

export function post(kbs: RunningKbs, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${kbs.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export function cookieOf(response: Response): string {
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

/** One RCAR handshake by hand, so a test can bend any step. */
export async function handshake(kbs: RunningKbs, device: VirtualDevice, bend: { bindKey?: TeePubkey; sendKey?: TeePubkey } = {}) {
  const auth = await post(kbs, '/kbs/v0/auth', { version: '0.4.0', tee: 'snp', 'extra-params': '' });
  const cookie = cookieOf(auth);
  const { nonce } = (await auth.json()) as { nonce: string };
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const teePubkey = teePubkeyOf(pair.publicKey, 'ECDH-ES+A256KW');
  const { report, certTable } = await device.getReport({ reportData: expectedReportData(nonce, bend.bindKey ?? teePubkey, ''), withCerts: true });
  const body = {
    'init-data': null,
    'runtime-data': { nonce, 'tee-pubkey': bend.sendKey ?? teePubkey },
    'tee-evidence': { primary_evidence: snpEvidenceOf(report, certTable), additional_evidence: '' },
  };
  return { cookie, nonce, body, privateKey: pair.privateKey, teePubkey, attest: () => post(kbs, '/kbs/v0/attest', body, { cookie }) };
}
