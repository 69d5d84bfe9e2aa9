import type { Product } from '../abi/product';
import type { VekRequest } from '../verify';
import { splitPem, type VekKind } from '../x509/vek';
import type { HttpGetter } from './getter';
import { hwIdOf, type VekSource } from './source';

/** AMD's Key Distribution Service (KDS spec 57230): VCEKs, and the ASK/ASVK chains and CRLs of each product. */
export const DEFAULT_KDS_BASE = 'https://kdsintf.amd.com';

export interface KdsOptions {
  /** Default: AMD's public KDS. */
  baseUrl?: string;
}

function base(options: KdsOptions): string {
  return (options.baseUrl ?? DEFAULT_KDS_BASE).replace(/\/+$/, '');
}

const kindPath = (kind: VekKind) => (kind === 'VLEK' ? 'vlek' : 'vcek');

/**
 * The VCEK URL: the hwID in hex (64 bytes on Milan/Genoa, CHIP_ID's first 8 on Turin) and the
 * reported SPLs in decimal, Turin adding fmcSPL.
 */
export function kdsVcekUrl(request: VekRequest, options: KdsOptions = {}): string {
  const tcb = request.reportedTcb;
  const query = new URLSearchParams({
    blSPL: String(tcb.bootloader),
    teeSPL: String(tcb.tee),
    snpSPL: String(tcb.snp),
    ucodeSPL: String(tcb.microcode),
  });
  if (request.product === 'Turin') query.set('fmcSPL', String(tcb.fmc ?? 0));
  return `${base(options)}/vcek/v1/${request.product}/${hwIdOf(request).toString('hex')}?${query}`;
}

/** ASK then ARK (VCEK), or ASVK then ARK (VLEK), as PEM. */
export function kdsChainUrl(product: Product, kind: VekKind, options: KdsOptions = {}): string {
  return `${base(options)}/${kindPath(kind)}/v1/${product}/cert_chain`;
}

/** The ARK-signed CRL (DER) that revokes ASKs (VCEK path) or ASVKs (VLEK path). */
export function kdsCrlUrl(product: Product, kind: VekKind, options: KdsOptions = {}): string {
  return `${base(options)}/${kindPath(kind)}/v1/${product}/crl`;
}

/** The chain bundle as DER certificates, intermediate first; KDS serves Turin's with CRLF, which splitPem tolerates. */
export async function fetchKdsChain(product: Product, kind: VekKind, options: KdsOptions, http: HttpGetter): Promise<Buffer[]> {
  const url = kdsChainUrl(product, kind, options);
  const chain = splitPem((await http.get(url, { Accept: 'application/x-pem-file' })).toString('latin1'));
  if (chain.length !== 2) throw new Error(`${url} returned ${chain.length} certificates, expected 2`);
  return chain;
}

export async function fetchKdsCrl(product: Product, kind: VekKind, options: KdsOptions, http: HttpGetter): Promise<Buffer> {
  return http.get(kdsCrlUrl(product, kind, options), { Accept: 'application/pkix-crl' });
}

/**
 * VCEKs from KDS. VLEKs are provisioned to cloud providers and are not publicly fetchable;
 * they arrive in the certificate table. The chain never changes for a product, so one fetch
 * per product serves every later VCEK.
 */
export function kdsSource(options: KdsOptions, http: HttpGetter): VekSource {
  const chains = new Map<Product, Promise<Buffer[]>>();
  const chainFor = (product: Product) => {
    let pending = chains.get(product);
    if (!pending) {
      pending = fetchKdsChain(product, 'VCEK', options, http);
      chains.set(product, pending);
      pending.catch(() => chains.delete(product));
    }
    return pending;
  };
  return {
    name: 'kds',
    async get(request) {
      if (request.kind === 'VLEK') throw new Error('AMD KDS does not serve VLEKs; a VLEK comes in the certificate table');
      if (hwIdOf(request).every((b) => b === 0)) throw new Error('CHIP_ID is masked (all zero), so KDS cannot name the VCEK');
      const [vek, chain] = await Promise.all([http.get(kdsVcekUrl(request, options), { Accept: 'application/pkix-cert' }), chainFor(request.product)]);
      return { vek, chain };
    },
  };
}
