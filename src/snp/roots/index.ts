import { createHash, type X509Certificate } from 'node:crypto';
import { PRODUCTS, type Product } from '../abi/product';
import { loadCertificate, splitPem, toDer } from '../x509/vek';
import { AMD_ROOTS } from './amd';

/**
 * One trust anchor: an ARK and the intermediates it signed (ASK for VCEKs, ASVK for VLEKs).
 * Make roots with amdRoots() or configuredRoot(), which check the ARK's self-signature once.
 */
export interface TrustedRoot {
  product: Product;
  ark: X509Certificate;
  ask?: X509Certificate;
  asvk?: X509Certificate;
  /** True only for AMD's pinned roots; a configured root (the virtual device's) is not genuine. */
  genuine: boolean;
}

let genuineRoots: TrustedRoot[] | undefined;

/** AMD's pinned roots, parsed once; the embedded ARKs are checked against their pins. */
export function amdRoots(): TrustedRoot[] {
  if (!genuineRoots) {
    genuineRoots = PRODUCTS.map((product) => {
      const pems = AMD_ROOTS[product];
      const arkDer = toDer(pems.ark);
      if (createHash('sha256').update(arkDer).digest('hex') !== pems.arkSha256) {
        throw new Error(`embedded ${product} ARK does not match its pin`);
      }
      const ark = loadCertificate(arkDer);
      if (!ark.verify(ark.publicKey)) throw new Error(`embedded ${product} ARK is not self-signed`);
      return {
        product,
        ark,
        ask: loadCertificate(toDer(pems.ask)),
        asvk: loadCertificate(toDer(pems.asvk)),
        genuine: true,
      };
    });
  }
  return genuineRoots;
}

/**
 * A root configured by the operator (e.g. the virtual device's ARK): a PEM holding the ARK,
 * optionally with the ASK / ASVK it signed (a KDS-style cert_chain bundle). The product comes
 * from the ARK's CN ("ARK-Milan"), which the virtual PKI mints in AMD's shape.
 */
export function configuredRoot(pem: string | Uint8Array, product?: Product): TrustedRoot {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('latin1');
  const certs = (text.includes('-----BEGIN') ? splitPem(text) : [toDer(pem)]).map(loadCertificate);
  const cnOf = (c: X509Certificate) => /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1] ?? '';
  // The self-signature is checked here, once, so verification need not repeat it per report.
  const ark = certs.find((c) => c.subject === c.issuer && cnOf(c).startsWith('ARK-') && c.verify(c.publicKey));
  if (!ark) throw new Error('the trust root holds no self-signed ARK certificate');
  const resolved = product ?? (PRODUCTS as readonly string[]).find((p) => `ARK-${p}` === cnOf(ark));
  if (!resolved) throw new Error(`cannot tell the product of trust root "${ark.subject.replace(/\n/g, ', ')}"; name it`);
  const signedBy = (name: string) => certs.find((c) => cnOf(c) === name && c.issuer === ark.subject && c.verify(ark.publicKey));
  return { product: resolved as Product, ark, ask: signedBy(`SEV-${resolved}`), asvk: signedBy(`SEV-VLEK-${resolved}`), genuine: false };
}
