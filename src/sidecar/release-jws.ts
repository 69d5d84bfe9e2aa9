import { isIP } from 'node:net';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { ReleaseResponseInvalid } from '../errors';
import { verifyCompactJws, type JwsAlgorithm } from '../lib/jws';
import { BoundedMap } from '../lib/bounded-map';
import { outboundTrust } from '../tls/trust';
import { parseCertificate, validateCertificatePath } from './certificate-path';
import type { Certificate } from 'pkijs';

/**
 * Verifies the JWS a key service returns from a release, as Microsoft's sidecar does not: the
 * algorithm comes from an allow-list (never the header alone), the x5c chain must pass X.509
 * path validation (`certificate-path.ts`) to a trusted root (the system's, plus configured CAs
 * for a self-hosted KMS), every certificate of the path be valid now, and the signing
 * certificate must name the host that was called.
 */
const ALGORITHMS: JwsAlgorithm[] = ['RS256', 'PS256'];
/** Verified signers kept; a sidecar talks to one or a few key services. */
const MAX_SIGNERS = 16;

export interface ReleaseJwsOptions {
  /** CA certificates (PEM) trusted besides the roots and NODE_EXTRA_CA_CERTS, e.g. the embedded stack's CA. */
  ca?: string[];
  now?: () => Date;
}

export class ReleaseJwsVerifier {
  private readonly anchorPems: string[];
  /** Parsed on first use: a sidecar that never releases never parses the system's roots. */
  private anchors?: X509Certificate[];
  /** The anchors a path was validated against, in pkijs's form (each parsed once: pkijs parsing of the ~150 system roots is costly). */
  private readonly parsedAnchors = new Map<X509Certificate, Certificate>();
  private readonly now: () => Date;
  private readonly signers = new BoundedMap<string, Promise<{ alg: JwsAlgorithm; chain: TrustedChain }>>(MAX_SIGNERS);

  constructor(options: ReleaseJwsOptions = {}) {
    this.anchorPems = [...outboundTrust(options.ca ?? []).ca];
    this.now = options.now ?? (() => new Date());
  }

  /** The anchors whose subject issued one of `chain`: the only ones a path can end at. */
  private anchorsFor(chain: X509Certificate[]): Certificate[] {
    this.anchors ??= this.anchorPems.flatMap((pem) => {
      try {
        return [new X509Certificate(pem)];
      } catch {
        return [];
      }
    });
    const issuers = new Set(chain.map((c) => c.issuer));
    return this.anchors
      .filter((a) => issuers.has(a.subject))
      .map((a) => {
        let parsed = this.parsedAnchors.get(a);
        if (!parsed) {
          parsed = parseCertificate(a.raw);
          this.parsedAnchors.set(a, parsed);
        }
        return parsed;
      });
  }

  async verify(jws: string, host: string): Promise<unknown> {
    if (typeof jws !== 'string' || jws.split('.').length !== 3) throw new ReleaseResponseInvalid('the release response is not a compact JWS');
    const { alg, chain } = await this.signer(jws.slice(0, jws.indexOf('.')));
    const now = this.now();
    if (now < chain.notBefore || now > chain.notAfter) throw new ReleaseResponseInvalid('a release JWS certificate is not valid now');
    const { leaf } = chain;
    // checkIP throws on a name; checkHost does not match an IP address against IP SANs.
    const certified = isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host);
    if (!certified) throw new ReleaseResponseInvalid(`the release JWS signer is not certified for ${host}`);
    const payload = verifyCompactJws(jws, alg, chain.signingKey);
    if (!payload) throw new ReleaseResponseInvalid('the release JWS signature does not verify');
    try {
      return JSON.parse(payload.toString('utf8'));
    } catch {
      throw new ReleaseResponseInvalid('the release JWS payload is not JSON');
    }
  }

  /**
   * The algorithm and the linked, anchored x5c chain a protected header names. A key service
   * signs every release under the same header, so one that checked out is kept (the chain's
   * validity and host are still checked per call); one that did not is not.
   */
  private signer(encodedHeader: string): Promise<{ alg: JwsAlgorithm; chain: TrustedChain }> {
    let signer = this.signers.get(encodedHeader);
    if (!signer) {
      signer = this.checkSigner(encodedHeader);
      this.signers.set(encodedHeader, signer);
      signer.catch(() => this.signers.delete(encodedHeader));
    }
    return signer;
  }

  private async checkSigner(encodedHeader: string): Promise<{ alg: JwsAlgorithm; chain: TrustedChain }> {
    let header: { alg?: unknown; x5c?: unknown; crit?: unknown };
    try {
      header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as typeof header;
    } catch {
      throw new ReleaseResponseInvalid('the release JWS header is not JSON');
    }
    if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg as JwsAlgorithm)) throw new ReleaseResponseInvalid(`release JWS algorithm ${String(header.alg)} is not allowed`);
    // No extension is understood, so none that is marked critical may be ignored (RFC 7515 §4.1.11).
    if (header.crit !== undefined) throw new ReleaseResponseInvalid('the release JWS names critical extensions');
    if (!Array.isArray(header.x5c) || header.x5c.length === 0 || header.x5c.length > 8) throw new ReleaseResponseInvalid('the release JWS carries no x5c chain');
    return { alg: header.alg as JwsAlgorithm, chain: await this.trustedChain(header.x5c.map(String)) };
  }

  private async trustedChain(x5c: string[]): Promise<TrustedChain> {
    let certificates: X509Certificate[];
    let chain: Certificate[];
    try {
      const ders = x5c.map((c) => Buffer.from(c, 'base64'));
      certificates = ders.map((der) => new X509Certificate(der));
      chain = ders.map(parseCertificate);
    } catch {
      throw new ReleaseResponseInvalid('the release JWS x5c chain does not parse');
    }
    const leaf = certificates[0]!;
    if (leaf.publicKey.asymmetricKeyType !== 'rsa') throw new ReleaseResponseInvalid('the release JWS signer is not an RSA key');
    const path = await validateCertificatePath(chain, this.anchorsFor(certificates), this.now());
    return { leaf, signingKey: leaf.publicKey, notBefore: path.notBefore, notAfter: path.notAfter };
  }
}

interface TrustedChain {
  leaf: X509Certificate;
  signingKey: KeyObject;
  /** The window in which every certificate of the chain is valid. */
  notBefore: Date;
  notAfter: Date;
}
