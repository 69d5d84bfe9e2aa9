import { createPrivateKey, generateKeyPair as generateKeyPairCb, randomBytes, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { InvalidArgument } from '../errors';
import { readIfExists, writeFileAtomic } from '../lib/state-file';

const generateKeyPair = promisify(generateKeyPairCb);

/** A TLS identity for a local service: a private CA and a server certificate it issued. */
export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface TlsOptions {
  /** DNS names and IP addresses the server certificate covers. */
  hosts?: string[];
  /** Common name prefix of the CA, e.g. "skr verifier". */
  name?: string;
}

const DEFAULT_HOSTS = ['localhost', '127.0.0.1', '::1'];
const CA_YEARS = 10;
const SERVER_DAYS = 397;

async function rsaKey(): Promise<{ privatePem: string; publicPem: string }> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

function serial(): string {
  // Positive, 16 random bytes: the top bit cleared keeps the DER INTEGER non-negative.
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('hex');
}

function isIp(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
}

/** Key generation runs in node:crypto (async); node-forge only assembles and signs the RSA certificates. */
export async function createTlsMaterial(options: TlsOptions = {}): Promise<TlsMaterial> {
  const hosts = options.hosts ?? DEFAULT_HOSTS;
  const name = options.name ?? 'skr';
  const [caKey, serverKey] = await Promise.all([rsaKey(), rsaKey()]);
  const caPrivate = forge.pki.privateKeyFromPem(caKey.privatePem);
  const now = new Date(Date.now() - 60_000);

  const ca = forge.pki.createCertificate();
  ca.publicKey = forge.pki.publicKeyFromPem(caKey.publicPem);
  ca.serialNumber = serial();
  ca.validity.notBefore = now;
  ca.validity.notAfter = new Date(now.getTime() + CA_YEARS * 365 * 86_400_000);
  const caSubject = [
    { name: 'commonName', value: `${name} local CA` },
    { name: 'organizationName', value: 'skr' },
  ];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }, { name: 'subjectKeyIdentifier' }]);
  ca.sign(caPrivate, forge.md.sha256.create());

  const server = forge.pki.createCertificate();
  server.publicKey = forge.pki.publicKeyFromPem(serverKey.publicPem);
  server.serialNumber = serial();
  server.validity.notBefore = now;
  server.validity.notAfter = new Date(now.getTime() + SERVER_DAYS * 86_400_000);
  server.setSubject([{ name: 'commonName', value: hosts[0] ?? 'localhost' }]);
  server.setIssuer(caSubject);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: hosts.map((h) => (isIp(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
  ]);
  server.sign(caPrivate, forge.md.sha256.create());

  return { caPem: forge.pki.certificateToPem(ca), certPem: forge.pki.certificateToPem(server), keyPem: serverKey.privatePem };
}

/** Loads `<dir>/ca.pem, server.pem, server-key.pem`, creating them on first start. */
export async function loadOrCreateTls(dir: string, options: TlsOptions = {}): Promise<TlsMaterial> {
  const [caPem, certPem, keyPem] = await Promise.all(['ca.pem', 'server.pem', 'server-key.pem'].map((f) => readIfExists(join(dir, f))));
  if (caPem && certPem && keyPem) return { caPem: caPem.toString(), certPem: certPem.toString(), keyPem: keyPem.toString() };
  const material = await createTlsMaterial(options);
  await writeFileAtomic(join(dir, 'ca.pem'), material.caPem, 0o644);
  await writeFileAtomic(join(dir, 'server.pem'), material.certPem, 0o644);
  await writeFileAtomic(join(dir, 'server-key.pem'), material.keyPem, 0o600);
  return material;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/**
 * An operator's certificate (`--tls-cert`: the server certificate first, then any
 * intermediates) and its private key (`--tls-key`). Refused unless the key is the certificate's
 * and the certificate is valid now, so a mistake stops the service at start rather than at the
 * first handshake. `caPem` is the last certificate of the chain: the one clients must trust.
 */
export function tlsFromPem(chainPem: string, keyPem: string, now: Date = new Date()): TlsMaterial {
  const blocks = chainPem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new InvalidArgument('--tls-cert holds no PEM certificate');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(blocks[0]!);
    for (const pem of blocks.slice(1)) new X509Certificate(pem);
  } catch {
    throw new InvalidArgument('--tls-cert holds a certificate that does not parse');
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new InvalidArgument('--tls-key is not a PEM private key');
  }
  if (!leaf.checkPrivateKey(key)) throw new InvalidArgument('--tls-key is not the private key of the first certificate in --tls-cert');
  if (now < new Date(leaf.validFrom) || now > new Date(leaf.validTo)) throw new InvalidArgument('the --tls-cert certificate is not valid now', { validFrom: leaf.validFrom, validTo: leaf.validTo });
  return { certPem: blocks.join('\n'), keyPem, caPem: blocks[blocks.length - 1]! };
}

/** The certificates of `material`'s chain, leaf first, its CA last, each once (the release JWS's x5c). */
export function tlsChain(material: TlsMaterial): string[] {
  const blocks = [...(material.certPem.match(PEM_CERTIFICATE) ?? []), ...(material.caPem.match(PEM_CERTIFICATE) ?? [])];
  return [...new Set(blocks.map((b) => b.trim()))];
}
