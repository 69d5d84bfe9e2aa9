import { isIP } from 'node:net';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { ReleaseResponseInvalid } from '../errors';
import { verifyCompactJws, type JwsAlgorithm } from '../lib/jws';
import { BoundedMap } from '../lib/bounded-map';
import { outboundTrust } from '../tls/trust';

/**
 * Verifies the JWS a key service returns from a release, as Microsoft's sidecar does not: the
 * algorithm comes from an allow-list (never the header alone), the x5c chain must lead to a
 * trusted root (the system's, plus configured CAs for a self-hosted KMS), every certificate be
 * valid now, and the signing certificate must name the host that was called.
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
  private readonly anchors: X509Certificate[];
  private readonly now: () => Date;
  private readonly signers = new BoundedMap<string, { alg: JwsAlgorithm; chain: TrustedChain }>(MAX_SIGNERS);

  constructor(options: ReleaseJwsOptions = {}) {
    this.anchors = outboundTrust(options.ca ?? []).ca.flatMap((pem) => {
      try {
        return [new X509Certificate(pem)];
      } catch {
        return [];
      }
    });
    this.now = options.now ?? (() => new Date());
  }

  async verify(jws: string, host: string): Promise<unknown> {
    if (typeof jws !== 'string' || jws.split('.').length !== 3) throw new ReleaseResponseInvalid('the release response is not a compact JWS');
    const { alg, chain } = this.signer(jws.slice(0, jws.indexOf('.')));
    const now = this.now();
    if (now < chain.notBefore || now > chain.notAfter) throw new ReleaseResponseInvalid('a release JWS certificate is not valid now');
    const leaf = chain.certificates[0]!;
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
   * validity and host are still checked per call).
   */
  private signer(encodedHeader: string): { alg: JwsAlgorithm; chain: TrustedChain } {
    const known = this.signers.get(encodedHeader);
    if (known) return known;
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
    const signer = { alg: header.alg as JwsAlgorithm, chain: this.trustedChain(header.x5c.map(String)) };
    this.signers.set(encodedHeader, signer);
    return signer;
  }

  private trustedChain(x5c: string[]): TrustedChain {
    let certificates: X509Certificate[];
    try {
      certificates = x5c.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
    } catch {
      throw new ReleaseResponseInvalid('the release JWS x5c chain does not parse');
    }
    for (let i = 0; i + 1 < certificates.length; i++) {
      if (!certificates[i]!.checkIssued(certificates[i + 1]!) || !certificates[i]!.verify(certificates[i + 1]!.publicKey)) {
        throw new ReleaseResponseInvalid('the release JWS x5c chain is broken');
      }
    }
    const last = certificates[certificates.length - 1]!;
    const anchored = this.anchors.some((a) => a.raw.equals(last.raw) || (last.checkIssued(a) && last.verify(a.publicKey)));
    if (!anchored) throw new ReleaseResponseInvalid('the release JWS chain does not lead to a trusted root');
    if (certificates[0]!.publicKey.asymmetricKeyType !== 'rsa') throw new ReleaseResponseInvalid('the release JWS signer is not an RSA key');
    return {
      certificates,
      signingKey: certificates[0]!.publicKey,
      notBefore: new Date(Math.max(...certificates.map((c) => new Date(c.validFrom).getTime()))),
      notAfter: new Date(Math.min(...certificates.map((c) => new Date(c.validTo).getTime()))),
    };
  }
}

interface TrustedChain {
  certificates: X509Certificate[];
  signingKey: KeyObject;
  /** The window in which every certificate of the chain is valid. */
  notBefore: Date;
  notAfter: Date;
}
