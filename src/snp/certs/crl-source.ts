import type { X509Certificate } from 'node:crypto';
import { CrlInvalid, CrlUnavailable, InvalidArgument } from '../../errors';
import type { Product } from '../abi/product';
import type { CrlGetter, CrlRequest } from '../verify';
import type { VekKind } from '../x509/vek';
import { crlsFromFile, parseCrl, subjectOf, verifyCrl, type Crl } from './crl';
import type { HttpGetter } from './getter';
import { fetchKdsCrl, type KdsOptions } from './kds';

/** Without nextUpdate a fetched CRL is refetched daily. */
const CRL_DEFAULT_LIFETIME_MS = 24 * 3600 * 1000;
/** A CRL already past its nextUpdate is asked for again at most this often: KDS rate-limits. */
const STALE_REFETCH_MS = 3600 * 1000;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * AMD KDS CRLs, one per product and path (VCEK, VLEK), held until their nextUpdate. A CRL is
 * cached only once it verifies against the ARK asking for it, so a forged or damaged answer is
 * refused now and refetched next time rather than excusing later requests.
 */
class KdsCrlCache {
  private readonly held = new Map<string, { crl: Crl; der: Buffer; expires: number; arkFingerprint: string }>();
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly kds: KdsOptions,
    private readonly http: HttpGetter,
    private readonly now: () => Date,
  ) {}

  async get(product: Product, kind: VekKind, ark: X509Certificate): Promise<{ crl: Crl; der: Buffer }> {
    const key = `${product}/${kind}`;
    const hit = this.held.get(key);
    // A hit was verified against this very ARK when it was fetched, and verifyReport checks every
    // CRL it is given again, so a hit costs no RSA-4096 verification here.
    if (hit && hit.expires > this.now().getTime() && hit.arkFingerprint === ark.fingerprint256) return hit;
    // Concurrent requests share one fetch.
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = fetchKdsCrl(product, kind, this.kds, this.http).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    let der: Buffer;
    try {
      der = await pending;
    } catch (err) {
      throw new CrlUnavailable(`the ${product} ${kind} CRL could not be fetched: ${reasonOf(err)}`, { product, kind });
    }
    const crl = parseCrl(der);
    try {
      verifyCrl(crl, ark);
    } catch (err) {
      this.held.delete(key);
      throw err instanceof CrlInvalid ? err : new CrlInvalid(reasonOf(err));
    }
    const now = this.now().getTime();
    const next = crl.nextUpdate?.getTime() ?? now + CRL_DEFAULT_LIFETIME_MS;
    this.held.set(key, { crl, der, expires: next > now ? next : now + STALE_REFETCH_MS, arkFingerprint: ark.fingerprint256 });
    return { crl, der };
  }
}

export interface CrlGetterOptions {
  /** CRL files' contents (DER, or PEM with one or more X509 CRL blocks): offline revocation data. */
  files?: Uint8Array[];
  /** Fetch genuine AMD chains' CRLs from KDS (`{}` for AMD's) when no file covers their ARK. */
  kds?: KdsOptions;
  /** Required with `kds`. */
  http?: HttpGetter;
  /** Decides when a cached CRL is due for refetching; default the wall clock. */
  now?: () => Date;
}

export interface CrlSource {
  /** Usable as VerifyOptions.crls. */
  get: CrlGetter;
  /** True when a CRL file was given for this chain's ARK (a configured root is checked only then). */
  coversArk(ark: X509Certificate): boolean;
}

/**
 * Where a verifier's CRLs come from: CRL files first, matched to a chain by their issuer (the
 * chain's ARK), then — for AMD's pinned ARKs only — KDS behind a cache. A configured root has no
 * KDS, so its CRL comes from a file or not at all. Signatures and freshness are checked by
 * verifyReport, which receives every matching CRL.
 */
export function createCrlSource(options: CrlGetterOptions): CrlSource {
  const files = (options.files ?? []).flatMap(crlsFromFile).map((der) => ({ der, crl: parseCrl(der) }));
  if (options.kds && !options.http) throw new InvalidArgument('fetching CRLs from KDS needs an HTTP getter', { field: 'http' });
  const kds = options.kds && options.http ? new KdsCrlCache(options.kds, options.http, options.now ?? (() => new Date())) : undefined;
  const fromFiles = (ark: X509Certificate) => {
    const subject = subjectOf(ark);
    return files.filter((f) => f.crl.issuer.equals(subject));
  };
  return {
    coversArk: (ark) => fromFiles(ark).length > 0,
    async get(request: CrlRequest) {
      const given = fromFiles(request.ark);
      if (given.length > 0) return given.map((f) => f.der);
      if (!request.genuine || !kds) return undefined;
      return (await kds.get(request.product, request.kind, request.ark)).der;
    },
  };
}
