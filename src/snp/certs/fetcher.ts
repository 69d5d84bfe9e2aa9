import type { X509Certificate } from 'node:crypto';
import { InvalidArgument, VekUnavailable } from '../../errors';
import { amdRoots, type TrustedRoot } from '../roots';
import type { VekFetcher, VekRequest } from '../verify';
import { loadCertificate, parseVek, type VekCertificate } from '../x509/vek';
import { VekCache } from './cache';
import { certTableSource } from './cert-table';
import { assertCrlCurrent, assertNotRevoked } from './crl';
import { KdsCrlCache } from './crl-source';
import type { HttpGetter } from './getter';
import { kdsSource, type KdsOptions } from './kds';
import { readSecurityContext, securityContextSource, type SecurityContext, type SecurityContextOptions } from './security-context';
import { vekMismatch, type CertSourceName, type VekBundle, type VekSource } from './source';
import { fetchThimCertification, thimSource, type ThimCertification, type ThimOptions } from './thim';

export const DEFAULT_SOURCE_ORDER: readonly CertSourceName[] = ['cert-table', 'security-context', 'thim', 'kds'];

/**
 * Which sources to use and how. A source takes part only when its option is given (`{}` for
 * its defaults), so nothing reaches the network unless asked to.
 */
export interface CertSourcesOptions {
  /** The order sources are tried in; default cert-table, security-context, thim, kds. */
  order?: readonly CertSourceName[];
  /** The extended report's certificate table, or a getter for the latest one. */
  certTable?: Uint8Array | (() => Uint8Array | undefined);
  securityContext?: SecurityContextOptions;
  thim?: ThimOptions;
  kds?: KdsOptions;
  /** On-disk VCEK cache; without it the cache is in memory only. */
  cacheDir?: string;
  /** How THIM, KDS and the CRLs are fetched; required when any of them is used. */
  http?: HttpGetter;
  /**
   * Check the issuing ASK/ASVK against the ARK-signed CRL from KDS (`kds.baseUrl` or AMD's).
   * Fails closed: an unreachable or invalid CRL refuses the VEK.
   */
  checkRevocation?: boolean;
  /** Roots besides AMD's pinned ones whose CRLs are accepted (as in VerifyOptions). */
  trustedRoots?: TrustedRoot[];
  /** Clock for CRL freshness; default the wall clock. */
  now?: () => Date;
}

export interface CertSources {
  /** Usable as VerifyOptions.fetcher. */
  fetchVek: VekFetcher;
  /** The UVM security context (empty when not configured or absent), read once. */
  securityContext(): Promise<SecurityContext>;
  /** The host's THIM answer for /attest/combined: from the security context, else the THIM endpoint when configured. */
  hostAmdCertificate(): Promise<ThimCertification | undefined>;
  /** reference-info-base64 decoded (the UVM endorsements), if the platform provided it. */
  uvmEndorsements(): Promise<Buffer | undefined>;
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      pending = load();
      pending.catch(() => (pending = undefined));
    }
    return pending;
  };
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createCertSources(options: CertSourcesOptions = {}): CertSources {
  const http = networkGetter(options);
  const now = options.now ?? (() => new Date());
  const cache = new VekCache(options.cacheDir);
  const loadSecurityContext = once<SecurityContext>(() => (options.securityContext ? readSecurityContext(options.securityContext) : Promise.resolve({})));

  const available: Partial<Record<CertSourceName, VekSource>> = {
    ...(options.certTable ? { 'cert-table': certTableSource(options.certTable) } : {}),
    ...(options.securityContext ? { 'security-context': securityContextSource(loadSecurityContext) } : {}),
    ...(options.thim && http ? { thim: thimSource(options.thim, http) } : {}),
    ...(options.kds && http ? { kds: kdsSource(options.kds, http) } : {}),
  };
  const sources = (options.order ?? DEFAULT_SOURCE_ORDER).flatMap((name) => available[name] ?? []);

  const crls = http ? new KdsCrlCache(options.kds ?? {}, http, now) : undefined;

  /** Checks the ASK/ASVK that actually issued the VEK (from the bundle or the pinned set) against its ARK's CRL. */
  async function assertIssuerNotRevoked(request: VekRequest, vek: VekCertificate, chain: Buffer[]): Promise<void> {
    const roots = [...amdRoots(), ...(options.trustedRoots ?? [])].filter((r) => r.product === request.product);
    const pinned = roots.flatMap((r) => (request.kind === 'VLEK' ? r.asvk : r.ask) ?? []);
    const seen = new Set<string>();
    const issuers: X509Certificate[] = [];
    for (const cert of [...chain.map(loadCertificate), ...pinned]) {
      const id = cert.raw.toString('base64');
      if (seen.has(id) || cert.subject !== vek.cert.issuer || !vek.cert.verify(cert.publicKey)) continue;
      seen.add(id);
      issuers.push(cert);
    }
    for (const issuer of issuers) {
      const ark = roots.find((r) => issuer.verify(r.ark.publicKey))?.ark;
      if (!ark) continue; // not chained to a trusted root: the verifier refuses it anyway
      const { crl } = await crls!.get(request.product, request.kind, ark);
      assertCrlCurrent(crl, now());
      assertNotRevoked(crl, issuer, request.kind === 'VLEK' ? 'ASVK' : 'ASK');
    }
  }

  async function deliver(request: VekRequest, bundle: VekBundle) {
    if (options.checkRevocation) await assertIssuerNotRevoked(request, parseVek(bundle.vek), bundle.chain);
    return { vek: bundle.vek, chain: bundle.chain };
  }

  async function fromSources(request: VekRequest): Promise<VekBundle> {
    const tried: { source: string; reason: string }[] = [];
    for (const source of sources) {
      try {
        const bundle = await source.get(request);
        const mismatch = vekMismatch(parseVek(bundle.vek), request);
        if (!mismatch) {
          await cache.put(request, bundle);
          return bundle;
        }
        tried.push({ source: source.name, reason: mismatch });
      } catch (err) {
        tried.push({ source: source.name, reason: reasonOf(err) });
      }
    }
    throw new VekUnavailable(request.kind, tried);
  }

  // Concurrent requests for one VCEK share one round of fetching: KDS rate-limits.
  const inflight = new Map<string, Promise<VekBundle>>();
  const fetchVek: VekFetcher = async (request) => {
    const hit = await cache.get(request);
    if (hit) return deliver(request, hit.bundle);
    const key = `${request.kind}/${request.product}/${request.chipId.toString('hex')}/${JSON.stringify(request.reportedTcb)}`;
    let pending = inflight.get(key);
    if (!pending) {
      pending = fromSources(request).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return deliver(request, await pending);
  };

  const thimAnswer = onceFor(async () => {
    const thim = await fetchThimCertification(options.thim ?? {}, http!);
    const seconds = Number(thim.cacheControl);
    return { value: thim, expires: now().getTime() + (Number.isFinite(seconds) && seconds > 0 ? seconds : 86400) * 1000 };
  }, now);

  return {
    fetchVek,
    securityContext: loadSecurityContext,
    async hostAmdCertificate() {
      const context = await loadSecurityContext();
      if (context.hostAmdCertificate) return context.hostAmdCertificate;
      return options.thim ? thimAnswer() : undefined;
    },
    async uvmEndorsements() {
      return (await loadSecurityContext()).referenceInfo;
    },
  };
}

/** The getter, refused at construction when a network source (THIM, KDS, CRLs) is asked for without one. */
function networkGetter(options: CertSourcesOptions): HttpGetter | undefined {
  const needs = options.thim !== undefined || options.kds !== undefined || options.checkRevocation === true;
  if (needs && !options.http) throw new InvalidArgument('THIM, KDS and CRL fetching need an HTTP getter', { field: 'http' });
  return needs ? options.http : undefined;
}

/** Memoises an answer until its own expiry; a failure is not remembered. */
function onceFor<T>(load: () => Promise<{ value: T; expires: number }>, now: () => Date): () => Promise<T> {
  let held: { value: T; expires: number } | undefined;
  let pending: Promise<T> | undefined;
  return () => {
    if (held && held.expires > now().getTime()) return Promise.resolve(held.value);
    if (!pending) {
      pending = load()
        .then((answer) => {
          held = answer;
          return answer.value;
        })
        .finally(() => (pending = undefined));
    }
    return pending;
  };
}

/** A VekFetcher over the configured sources; see createCertSources. */
export function createVekFetcher(options: CertSourcesOptions = {}): VekFetcher {
  return createCertSources(options).fetchVek;
}

