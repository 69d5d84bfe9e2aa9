import { createHash, createPrivateKey, generateKeyPair as generateKeyPairCb, type KeyObject, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { readIfExists, writeFileAtomic } from '../lib/state-file';

const generateKeyPair = promisify(generateKeyPairCb);

/**
 * A kid the ring does not hold may be a key another process sharing the file (a replica started
 * with the same state directory) rotated in: the file is read again, at most this often, so
 * tokens with made-up kids cost at most one file read per interval.
 */
export const RING_REREAD_INTERVAL_MS = 1_000;

/**
 * The verifier's RS256 token-signing keys, each with a self-signed certificate published as
 * `x5c` (the form Key Vault requires of an authority's JWKS). They persist in one 0600 file.
 * Rotation retires the current key but keeps publishing it until tokens it signed expire.
 */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  certificate: X509Certificate;
  createdAt: number;
  retiredAt?: number;
}

interface StoredKey {
  kid: string;
  privatePem: string;
  certPem: string;
  createdAt: number;
  retiredAt?: number;
}

export interface Jwk {
  kid: string;
  kty: 'RSA';
  alg: 'RS256';
  use: 'sig';
  n: string;
  e: string;
  x5c: string[];
}

async function createSigningKey(issuer: string, now: number): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = createHash('sha256')
    .update(privatePem)
    .digest('hex')
    .slice(0, 30)
    .replace(/^[89a-f]/, '1');
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + 5 * 365 * 86_400_000);
  const subject = [{ name: 'commonName', value: `${new URL(issuer).host} token signing` }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.sign(forge.pki.privateKeyFromPem(privatePem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  // MAA-style kid: standard base64 of the certificate's SHA-256.
  const kid = createHash('sha256').update(new X509Certificate(certPem).raw).digest('base64');
  return { kid, privatePem, certPem, createdAt: now };
}

function hydrate(stored: StoredKey): SigningKey {
  return {
    kid: stored.kid,
    privateKey: createPrivateKey(stored.privatePem),
    certificate: new X509Certificate(stored.certPem),
    createdAt: stored.createdAt,
    retiredAt: stored.retiredAt,
  };
}

async function readStored(path: string): Promise<StoredKey[]> {
  const raw = await readIfExists(path);
  return raw ? (JSON.parse(raw.toString('utf8')) as { keys: StoredKey[] }).keys : [];
}

export class SigningKeyRing {
  /** When the file was last read (on the clock `reread` is given), and the read under way. */
  private readAt: number;
  private reading?: Promise<void>;

  private constructor(
    private readonly path: string,
    private readonly issuer: string,
    private keys: SigningKey[],
    now: number,
  ) {
    this.readAt = now;
  }

  static async open(path: string, issuer: string, now = Date.now()): Promise<SigningKeyRing> {
    const stored = await readStored(path);
    const ring = new SigningKeyRing(path, issuer, stored.map(hydrate), now);
    if (!ring.keys.some((k) => k.retiredAt === undefined)) await ring.rotate(now);
    return ring;
  }

  /**
   * The public key of the published key `kid` (see `published`), for verifying a token it
   * signed; undefined when the ring has no such key, even after reading the file again (at most
   * once per RING_REREAD_INTERVAL_MS).
   */
  async verificationKey(kid: string | undefined, tokenLifetimeMs: number, now = Date.now()): Promise<KeyObject | undefined> {
    const find = () => this.published(tokenLifetimeMs, now).find((k) => k.kid === kid)?.certificate.publicKey;
    const known = find();
    if (known || kid === undefined || now - this.readAt < RING_REREAD_INTERVAL_MS) return known;
    await this.reread(now);
    return find();
  }

  /** Reads the file again; concurrent callers share one read. */
  private reread(now: number): Promise<void> {
    this.reading ??= readStored(this.path)
      .then((stored) => {
        // A file emptied or removed meanwhile is not a reason to forget the keys in use.
        if (stored.some((k) => k.retiredAt === undefined)) this.keys = stored.map(hydrate);
      })
      // An unreadable file teaches nothing new: the keys held stay, and the kid stays unknown.
      .catch(() => undefined)
      .finally(() => {
        this.readAt = now;
        this.reading = undefined;
      });
    return this.reading;
  }

  current(): SigningKey {
    return this.keys.filter((k) => k.retiredAt === undefined).at(-1)!;
  }

  /** Keys whose tokens may still be live: the current one and those retired less than `tokenLifetimeMs` ago. */
  published(tokenLifetimeMs: number, now = Date.now()): SigningKey[] {
    return this.keys.filter((k) => k.retiredAt === undefined || k.retiredAt + tokenLifetimeMs > now);
  }

  async rotate(now = Date.now()): Promise<SigningKey> {
    const fresh = await createSigningKey(this.issuer, now);
    // From the file as it is now: another process sharing it may have rotated meanwhile.
    const stored = [...(await readStored(this.path)).map((k) => (k.retiredAt === undefined ? { ...k, retiredAt: now } : k)), fresh];
    await writeFileAtomic(this.path, JSON.stringify({ keys: stored }), 0o600);
    this.keys = stored.map(hydrate);
    return this.current();
  }

  /** Drops keys retired longer ago than any token lives. */
  async prune(tokenLifetimeMs: number, now = Date.now()): Promise<void> {
    // From the file as it is now, like rotate: a key another process added stays.
    const stored = await readStored(this.path);
    const kept = stored.filter((k) => k.retiredAt === undefined || k.retiredAt + tokenLifetimeMs > now);
    if (kept.length === stored.length || !kept.some((k) => k.retiredAt === undefined)) return;
    await writeFileAtomic(this.path, JSON.stringify({ keys: kept }), 0o600);
    this.keys = kept.map(hydrate);
  }
}

export function toJwk(key: SigningKey): Jwk {
  const pub = key.certificate.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  return { kid: key.kid, kty: 'RSA', alg: 'RS256', use: 'sig', n: pub.n, e: pub.e, x5c: [key.certificate.raw.toString('base64')] };
}
