import { createHash, type X509Certificate } from 'node:crypto';
import { PRODUCTS, type Product } from '../abi/product';
import { loadCertificate, toDer } from '../x509/vek';
import { AMD_ROOTS } from './amd';

/** One trust anchor: an ARK and the intermediates it signed (ASK for VCEKs, ASVK for VLEKs). */
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
      return {
        product,
        ark: loadCertificate(arkDer),
        ask: loadCertificate(toDer(pems.ask)),
        asvk: loadCertificate(toDer(pems.asvk)),
        genuine: true,
      };
    });
  }
  return genuineRoots;
}

/**
 * A root configured by the operator (e.g. the virtual device's ARK). Its product comes
 * from the ARK's CN ("ARK-Milan"), which the virtual PKI mints in AMD's shape.
 */
export function configuredRoot(pem: string | Uint8Array, product?: Product): TrustedRoot {
  const ark = loadCertificate(toDer(pem));
  const cn = /(?:^|\n)CN=ARK-([A-Za-z]+)/.exec(ark.subject)?.[1];
  const resolved = product ?? (PRODUCTS as readonly string[]).find((p) => p === cn);
  if (!resolved) throw new Error(`cannot tell the product of trust root "${ark.subject.replace(/\n/g, ', ')}"; name it`);
  return { product: resolved as Product, ark, genuine: false };
}
