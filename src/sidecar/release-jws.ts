import { rootCertificates } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { compactVerify } from 'jose';
import { ReleaseResponseInvalid } from '../errors';

/**
 * Verifies the JWS a key service returns from a release, as Microsoft's sidecar does not: the
 * algorithm comes from an allow-list (never the header alone), the x5c chain must lead to a
 * trusted root (the system's, plus configured CAs for a self-hosted KMS), every certificate be
 * valid now, and the signing certificate must name the host that was called.
 */
const ALGORITHMS = ['RS256', 'PS256'];

export interface ReleaseJwsOptions {
  /** Extra trusted CA certificates (PEM), e.g. the embedded stack's CA. */
  ca?: string[];
  now?: () => Date;
}

export class ReleaseJwsVerifier {
  private readonly anchors: X509Certificate[];
  private readonly now: () => Date;

  constructor(options: ReleaseJwsOptions = {}) {
    this.anchors = [...rootCertificates, ...(options.ca ?? [])].flatMap((pem) => {
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
    let header: { alg?: unknown; x5c?: unknown };
    try {
      header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString('utf8')) as typeof header;
    } catch {
      throw new ReleaseResponseInvalid('the release JWS header is not JSON');
    }
    if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg)) throw new ReleaseResponseInvalid(`release JWS algorithm ${String(header.alg)} is not allowed`);
    if (!Array.isArray(header.x5c) || header.x5c.length === 0 || header.x5c.length > 8) throw new ReleaseResponseInvalid('the release JWS carries no x5c chain');
    let chain: X509Certificate[];
    try {
      chain = header.x5c.map((c) => new X509Certificate(Buffer.from(String(c), 'base64')));
    } catch {
      throw new ReleaseResponseInvalid('the release JWS x5c chain does not parse');
    }
    this.checkChain(chain, host);
    try {
      const { payload } = await compactVerify(jws, chain[0]!.publicKey, { algorithms: ALGORITHMS });
      return JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      throw new ReleaseResponseInvalid('the release JWS signature does not verify');
    }
  }

  private checkChain(chain: X509Certificate[], host: string): void {
    const now = this.now();
    for (const cert of chain) {
      if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) throw new ReleaseResponseInvalid('a release JWS certificate is not valid now');
    }
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) {
        throw new ReleaseResponseInvalid('the release JWS x5c chain is broken');
      }
    }
    const last = chain[chain.length - 1]!;
    const anchored = this.anchors.some((a) => a.raw.equals(last.raw) || (last.checkIssued(a) && last.verify(a.publicKey)));
    if (!anchored) throw new ReleaseResponseInvalid('the release JWS chain does not lead to a trusted root');
    if (chain[0]!.publicKey.asymmetricKeyType !== 'rsa') throw new ReleaseResponseInvalid('the release JWS signer is not an RSA key');
    if (!chain[0]!.checkHost(host) && !chain[0]!.checkIP(host)) throw new ReleaseResponseInvalid(`the release JWS signer is not certified for ${host}`);
  }
}
