import { createHash, createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VirtualStateInvalid } from '../../errors';
import { CERT_GUIDS, serializeCertTable } from '../abi/cert-table';
import { tcbEqual } from '../abi/tcb';
import { configuredRoot } from '../roots';
import { basicConstraintsExtension, buildCertificate, keyUsageExtension } from '../x509/cert-builder';
import { parseVek } from '../x509/vek';
import { applyOptions, configFromJson, configToJson, newConfig } from './config';
import { generateP384Key, generateRsa4096 } from './keys';
import { addYears, hwIdOf, mintVek, randomSerial } from './mint-vek';
import { amdName } from './profiles';
import { buildReport, reportSpecFromConfig } from './report-builder';
import type { KeyedCertificate, VirtualDeviceConfig, VirtualPki, VirtualPkiOptions, VirtualUvm } from './types';
import { endorsementIsCurrent, mintUvmSigner, signUvmEndorsement, virtualUvmIssuer, type VirtualUvmSigner } from './uvm-endorsement';

/**
 * The virtual device's AMD-shaped PKI, kept in `<state>/virtual/`. File names are a contract
 * with the FUSE sev-guest test daemon, which signs with vcek-key.pem the template it reads.
 */
export const VIRTUAL_FILES = {
  arkCert: 'ark.pem',
  arkKey: 'ark-key.pem',
  askCert: 'ask.pem',
  askKey: 'ask-key.pem',
  vcekCert: 'vcek.pem',
  vcekKey: 'vcek-key.pem',
  device: 'device.json',
  /** The unsigned 0x4A0-byte report of the configuration: REPORT_DATA zero, VMPL 0, signature zero. */
  reportTemplate: 'report-template.bin',
  /** GHCB certificate table: VCEK, ASK, ARK (DER). */
  certTable: 'cert-table.bin',
  /** The virtual UVM signer's root (its key is not kept) and the signer itself. */
  uvmRootCert: 'uvm-root.pem',
  uvmSignerCert: 'uvm-signer.pem',
  uvmSignerKey: 'uvm-signer-key.pem',
  /** Laid out as ACI's UVM security context: the sidecar reads the endorsement from here. */
  securityContext: 'security-context',
} as const;

/** The endorsement's file in the security context directory, named as ACI names it. */
const REFERENCE_INFO_FILE = 'reference-info-base64';

/** Where a state's UVM security context lives, for a sidecar that uses its virtual device. */
export function virtualSecurityContextDir(stateDir: string): string {
  return join(resolve(stateDir), 'virtual', VIRTUAL_FILES.securityContext);
}

const DAY_MS = 24 * 3600 * 1000;
/** AMD's ARKs and ASKs are valid for 25 years. */
const CA_VALIDITY_YEARS = 25;

type Role = 'ark' | 'ask' | 'vcek' | 'uvmSigner';
const ROLE_FILES: Record<Role, [cert: string, key: string]> = {
  ark: [VIRTUAL_FILES.arkCert, VIRTUAL_FILES.arkKey],
  ask: [VIRTUAL_FILES.askCert, VIRTUAL_FILES.askKey],
  vcek: [VIRTUAL_FILES.vcekCert, VIRTUAL_FILES.vcekKey],
  uvmSigner: [VIRTUAL_FILES.uvmSignerCert, VIRTUAL_FILES.uvmSignerKey],
};

function keyed(der: Buffer, key: KeyObject): KeyedCertificate {
  const cert = new X509Certificate(der);
  return { der, pem: cert.toString(), cert, key };
}

/** Mints ARK, ASK and VCEK; the two RSA-4096 keys (seconds each) are generated in parallel. */
async function mintChain(config: VirtualDeviceConfig, now: Date): Promise<Pick<VirtualPki, 'ark' | 'ask' | 'vcek'>> {
  const product = config.product;
  const [arkKey, askKey, vcekKey] = await Promise.all([generateRsa4096(), generateRsa4096(), generateP384Key()]);
  // Back-date a day so a verifier whose clock lags the minting host still accepts the chain.
  const notBefore = new Date(now.getTime() - DAY_MS);
  const notAfter = addYears(notBefore, CA_VALIDITY_YEARS);
  const arkName = amdName(`ARK-${product}`);
  // Like AMD's own (2020) ARKs and ASKs, the PSS trailerField is spelled out; the VCEK omits it, like current KDS output.
  const caSpec = { explicitTrailerField: true, issuer: arkName, notBefore, notAfter };
  const arkDer = await buildCertificate(
    {
      ...caSpec,
      serial: randomSerial(),
      subject: arkName,
      publicKey: arkKey,
      extensions: [keyUsageExtension(['keyCertSign', 'cRLSign']), basicConstraintsExtension(true)],
    },
    arkKey,
  );
  const askDer = await buildCertificate(
    {
      ...caSpec,
      serial: randomSerial(),
      subject: amdName(`SEV-${product}`),
      publicKey: askKey,
      extensions: [keyUsageExtension(['keyCertSign']), basicConstraintsExtension(true, 0)],
    },
    arkKey,
  );
  const ask = keyed(askDer, askKey);
  const vcek = await mintVek({ product, config, ask, vcek: { key: vcekKey } }, { notBefore });
  return { ark: keyed(arkDer, arkKey), ask, vcek };
}

async function writeAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, data, { mode });
  await rename(temp, path);
}

function keyPem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

async function writeKeyed(dir: string, role: Role, entry: KeyedCertificate): Promise<void> {
  const [certFile, keyFile] = ROLE_FILES[role];
  await writeAtomic(join(dir, keyFile), keyPem(entry.key), 0o600);
  await writeAtomic(join(dir, certFile), entry.pem, 0o644);
}

/** Files derived from the rest: rewritten only when their content would change. */
async function writeDerived(dir: string, name: string, data: string | Buffer): Promise<void> {
  const existing = await readFile(join(dir, name)).catch(() => undefined);
  if (existing && existing.equals(Buffer.from(data))) return;
  await writeAtomic(join(dir, name), data, 0o644);
}

function fail(message: string, file?: string): never {
  throw new VirtualStateInvalid(message, file ? { file } : undefined);
}

/** Reads a certificate and its key, refusing loose key permissions or a key that is not the certificate's. */
async function readKeyed(dir: string, role: Role): Promise<KeyedCertificate> {
  const [certFile, keyFile] = ROLE_FILES[role];
  const keyPath = join(dir, keyFile);
  const info = await stat(keyPath).catch(() => fail(`${keyFile} is missing`, keyFile));
  if (info.mode & 0o077) fail(`${keyFile} is accessible to group or others (mode ${(info.mode & 0o777).toString(8)}); it must be 0600`, keyFile);
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(await readFile(join(dir, certFile)));
  } catch {
    fail(`${certFile} is missing or not a certificate`, certFile);
  }
  try {
    key = createPrivateKey(await readFile(keyPath));
  } catch {
    fail(`${keyFile} is not a private key`, keyFile);
  }
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!spki(createPublicKey(key)).equals(spki(cert.publicKey))) fail(`${certFile} does not match ${keyFile}`, certFile);
  return { der: cert.raw, pem: cert.toString(), cert, key };
}

/** The chain must be the one this state claims: names, signatures, and a VCEK for this chip and TCB. */
function checkChain(config: VirtualDeviceConfig, chain: Pick<VirtualPki, 'ark' | 'ask' | 'vcek'>): void {
  const { product } = config;
  const cn = (c: X509Certificate) => /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1];
  const { ark, ask, vcek } = chain;
  if (cn(ark.cert) !== `ARK-${product}` || !ark.cert.verify(ark.cert.publicKey)) fail(`ark.pem is not a self-signed ARK-${product}`, 'ark.pem');
  if (cn(ask.cert) !== `SEV-${product}` || ask.cert.issuer !== ark.cert.subject || !ask.cert.verify(ark.cert.publicKey)) {
    fail(`ask.pem is not a SEV-${product} signed by ark.pem`, 'ask.pem');
  }
  if (vcek.cert.issuer !== ask.cert.subject || !vcek.cert.verify(ask.cert.publicKey)) fail('vcek.pem is not signed by ask.pem', 'vcek.pem');
  let vek;
  try {
    vek = parseVek(vcek.der);
  } catch (error) {
    fail(`vcek.pem is not a VCEK: ${(error as Error).message}`, 'vcek.pem');
  }
  if (vek.kind !== 'VCEK' || vek.product !== product || !tcbEqual(vek.tcb, config.tcb) || !vek.hwId?.equals(hwIdOf(product, config.chipId))) {
    fail('vcek.pem does not carry the product, TCB and chip id of device.json', 'vcek.pem');
  }
}

function assemble(stateDir: string, dir: string, config: VirtualDeviceConfig, chain: Pick<VirtualPki, 'ark' | 'ask' | 'vcek'>, uvm: VirtualUvm): VirtualPki {
  return {
    uvm,
    stateDir,
    dir,
    product: config.product,
    config,
    ...chain,
    arkSha256: createHash('sha256').update(chain.ark.der).digest('hex'),
    root: configuredRoot(chain.ark.der, config.product),
    certTable: serializeCertTable([
      { guid: CERT_GUIDS.vcek, data: chain.vcek.der },
      { guid: CERT_GUIDS.ask, data: chain.ask.der },
      { guid: CERT_GUIDS.ark, data: chain.ark.der },
    ]),
  };
}

async function writeUvmSigner(dir: string, uvm: VirtualUvmSigner): Promise<void> {
  await writeDerived(dir, VIRTUAL_FILES.uvmRootCert, uvm.root.toString());
  const existing = await readFile(join(dir, VIRTUAL_FILES.uvmSignerCert), 'utf8').catch(() => undefined);
  if (existing !== uvm.signer.pem) await writeKeyed(dir, 'uvmSigner', uvm.signer);
}

/** The stored UVM signer, checked against its root; undefined when the state has none yet. */
async function readUvmSigner(dir: string): Promise<VirtualUvmSigner | undefined> {
  const rootPem = await readFile(join(dir, VIRTUAL_FILES.uvmRootCert)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!rootPem) return undefined;
  let root: X509Certificate;
  try {
    root = new X509Certificate(rootPem);
  } catch {
    fail(`${VIRTUAL_FILES.uvmRootCert} is not a certificate`, VIRTUAL_FILES.uvmRootCert);
  }
  const signer = await readKeyed(dir, 'uvmSigner');
  if (!root.ca || !root.verify(root.publicKey) || signer.cert.issuer !== root.subject || !signer.cert.verify(root.publicKey)) {
    fail(`${VIRTUAL_FILES.uvmSignerCert} is not signed by the self-signed CA ${VIRTUAL_FILES.uvmRootCert}`, VIRTUAL_FILES.uvmSignerCert);
  }
  return { root, signer };
}

/**
 * The endorsement of `measurement` in `<writeDir>/security-context/`, re-signed only when the
 * stored one is not this signer's or endorses another measurement. `dir` is where it will live.
 */
async function writeEndorsement(writeDir: string, dir: string, uvm: VirtualUvmSigner, measurement: Buffer, now: Date): Promise<VirtualUvm> {
  const contextDir = join(writeDir, VIRTUAL_FILES.securityContext);
  await mkdir(contextDir, { recursive: true, mode: 0o755 });
  const file = join(contextDir, REFERENCE_INFO_FILE);
  const stored: Buffer | undefined = await readFile(file, 'utf8').then(
    (text) => Buffer.from(text.trim(), 'base64'),
    () => undefined,
  );
  let endorsement: Buffer;
  if (stored && endorsementIsCurrent(stored, uvm, measurement)) {
    endorsement = stored;
  } else {
    endorsement = signUvmEndorsement(uvm, measurement, now);
    await writeAtomic(file, endorsement.toString('base64'), 0o644);
  }
  return { ...uvm, issuer: virtualUvmIssuer(uvm.root), endorsement, securityContextDir: join(dir, VIRTUAL_FILES.securityContext) };
}

async function readConfig(dir: string): Promise<VirtualDeviceConfig | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, VIRTUAL_FILES.device), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return configFromJson(text);
}

/**
 * Creates the whole state in a private temporary directory and renames it into place, so a
 * reader never sees half a PKI and two processes racing to create it cannot mix their keys:
 * the loser's rename fails and it loads the winner's state.
 */
async function create(stateDir: string, dir: string, options: VirtualPkiOptions): Promise<void> {
  const config = newConfig(options);
  const now = options.now ?? new Date();
  const [chain, uvmSigner] = await Promise.all([mintChain(config, now), mintUvmSigner(now)]);
  const temp = join(stateDir, `.virtual-${randomBytes(6).toString('hex')}`);
  await mkdir(temp, { mode: 0o700 });
  try {
    for (const role of ['ark', 'ask', 'vcek'] as const) await writeKeyed(temp, role, chain[role]);
    await writeUvmSigner(temp, uvmSigner);
    const pki = assemble(stateDir, dir, config, chain, await writeEndorsement(temp, dir, uvmSigner, config.guest.measurement, now));
    await writeDerived(temp, VIRTUAL_FILES.reportTemplate, buildReport({ ...reportSpecFromConfig(config), vmpl: 0 }));
    await writeDerived(temp, VIRTUAL_FILES.certTable, pki.certTable);
    await writeAtomic(join(temp, VIRTUAL_FILES.device), configToJson(config, { arkSha256: pki.arkSha256 }), 0o644);
    await rename(temp, dir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    // Another process created the state first (or the directory holds something else, which loading reports).
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
}

/**
 * Loads the virtual PKI from `<stateDir>/virtual/`, minting it first when absent. Loading
 * generates no keys and checks every file: each certificate matches its key, the chain is
 * ARK → ASK → VCEK for this product, chip and TCB, and key files are 0600.
 *
 * Options on an existing state: product and CHIP_ID must agree (another machine needs another
 * directory); a new TCB re-issues the VCEK with a fresh key, as KDS derives one per TCB; guest
 * and platform fields replace the stored ones. device.json, report-template.bin and
 * cert-table.bin are rewritten when they change.
 */
export async function loadOrCreateVirtualPki(stateDir: string, options: VirtualPkiOptions = {}): Promise<VirtualPki> {
  const root = resolve(stateDir);
  const dir = join(root, 'virtual');
  await mkdir(root, { recursive: true, mode: 0o700 });
  let stored = await readConfig(dir);
  if (!stored) {
    await create(root, dir, options);
    stored = await readConfig(dir);
    if (!stored) fail(`${dir} exists but holds no device.json; remove it or choose another state directory`, VIRTUAL_FILES.device);
  }
  await chmod(dir, 0o700);
  // An all-zero host_data is what any VM launched without host data reports, so a state that
  // holds one is given a random host_data, kept from then on.
  if (stored.guest.hostData.every((b) => b === 0)) stored = { ...stored, guest: { ...stored.guest, hostData: randomBytes(32) } };

  const config = applyOptions(stored, options);
  const chain = { ark: await readKeyed(dir, 'ark'), ask: await readKeyed(dir, 'ask'), vcek: await readKeyed(dir, 'vcek') };
  checkChain(stored, chain);
  if (!tcbEqual(config.tcb, stored.tcb)) {
    const notBefore = new Date((options.now ?? new Date()).getTime() - DAY_MS);
    chain.vcek = await mintVek({ product: config.product, config, ask: chain.ask, vcek: chain.vcek }, { key: 'generate', notBefore });
    await writeKeyed(dir, 'vcek', chain.vcek);
  }
  const now = options.now ?? new Date();
  // A state without a UVM endorsement signer is given one.
  const uvmSigner = (await readUvmSigner(dir)) ?? (await mintUvmSigner(now));
  await writeUvmSigner(dir, uvmSigner);
  const pki = assemble(root, dir, config, chain, await writeEndorsement(dir, dir, uvmSigner, config.guest.measurement, now));
  await writeDerived(dir, VIRTUAL_FILES.device, configToJson(config, { arkSha256: pki.arkSha256 }));
  await writeDerived(dir, VIRTUAL_FILES.reportTemplate, buildReport({ ...reportSpecFromConfig(config), vmpl: 0 }));
  await writeDerived(dir, VIRTUAL_FILES.certTable, pki.certTable);
  return pki;
}
