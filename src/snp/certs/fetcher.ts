import { InvalidArgument, VekUnavailable } from '../../errors';
import type { VekFetcher, VekRequest } from '../verify';
import { parseVek } from '../x509/vek';
import { VekCache } from './cache';
import { certTableSource } from './cert-table';
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
  /**
   * How THIM and KDS are fetched; required when either is used. Revocation is not checked
   * here but by verifyReport (`checkRevocations`), on the chain it actually builds.
   */
  http?: HttpGetter;
  /** Clock for the THIM answer's expiry; default the wall clock. */
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
    if (hit) return hit.bundle;
    const key = `${request.kind}/${request.product}/${request.chipId.toString('hex')}/${JSON.stringify(request.reportedTcb)}`;
    let pending = inflight.get(key);
    if (!pending) {
      pending = fromSources(request).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return pending;
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

/** The getter, refused at construction when a network source (THIM, KDS) is asked for without one. */
function networkGetter(options: CertSourcesOptions): HttpGetter | undefined {
  const needs = options.thim !== undefined || options.kds !== undefined;
  if (needs && !options.http) throw new InvalidArgument('THIM and KDS fetching need an HTTP getter', { field: 'http' });
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
