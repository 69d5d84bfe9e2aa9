import { verify as verifySignature, type X509Certificate } from 'node:crypto';
import {
  ArkNotTrusted,
  CertificateExpired,
  CrlUnavailable,
  CertificateMalformed,
  CertificateNotYetValid,
  VekExpired,
  VekNotYetValid,
  IntermediateSignatureInvalid,
  ProductMismatch,
  ProductUnknown,
  ReportSignatureInvalid,
  VekChipMismatch,
  VekKindMismatch,
  VekSignatureInvalid,
  VekTcbMismatch,
} from '../errors';
import { certificatesOf } from './abi/cert-table';
import { assertCrlCurrent, assertNotRevoked, parseCrl, verifyCrl } from './certs/crl';
import { productFromCpuid, type Product } from './abi/product';
import { parseReport, signatureToP1363, signedBytes, SigningKey, type AttestationReport } from './abi/report';
import { TCB_COMPONENTS, decodeTcb, type Tcb } from './abi/tcb';
import { amdRoots, type TrustedRoot } from './roots';
import { loadCertificate, parseVek, toDer, type VekCertificate, type VekKind } from './x509/vek';

/** Evidence as it arrives: the report, and whatever certificates came with it. */
export interface Evidence {
  report: Uint8Array;
  /** The VCEK or VLEK, DER or PEM. */
  vek?: Uint8Array | string;
  /** ASK / ASVK / ARK certificates supplied with the evidence (e.g. a KDS cert_chain). */
  chain?: (Uint8Array | string)[];
  /** An extended-report certificate table (SNP_GET_EXT_REPORT certs / configfs-tsm auxblob). */
  certTable?: Uint8Array;
}

/** What a VEK fetcher is asked for when the evidence carries no VEK. */
export interface VekRequest {
  product: Product;
  kind: VekKind;
  chipId: Buffer;
  reportedTcb: Tcb;
}

export type VekFetcher = (request: VekRequest) => Promise<{ vek: Uint8Array | string; chain?: (Uint8Array | string)[] }>;

/** Which CRL a revocation check needs: the one `ark` issues for the VCEK (ASK) or VLEK (ASVK) path. */
export interface CrlRequest {
  product: Product;
  kind: VekKind;
  ark: X509Certificate;
  /** True for AMD's pinned ARK, false for a configured (virtual) root. */
  genuine: boolean;
}

/**
 * Obtains the CRL (DER) for a chain: from files, or AMD KDS behind a cache; undefined if it has
 * none. Several CRLs of the same ARK (e.g. its VCEK and VLEK lists given as files) are all checked.
 */
export type CrlGetter = (request: CrlRequest) => Promise<Uint8Array | readonly Uint8Array[] | undefined>;

/** Everything `verifyReport` depends on, in the go-sev-guest style: no hidden clock or network. */
export interface VerifyOptions {
  /** The time certificates must be valid at. */
  now: Date;
  /** Roots trusted besides AMD's pinned ones (e.g. the virtual device's ARK). */
  trustedRoots?: TrustedRoot[];
  /** The product, required for v2 reports whose VEK carries no productName; must agree with the evidence. */
  product?: Product;
  /** Obtains a VEK when the evidence has none; without it such evidence is refused. */
  fetcher?: VekFetcher;
  /**
   * Check the chain actually built — wherever its VEK came from — against its ARK's CRL
   * (go-sev-guest's CheckRevocations). Fails closed: no CRL, one the ARK did not sign, or one past
   * its nextUpdate refuses. A predicate decides per built chain (e.g. genuine AMD chains always,
   * a configured root only where a CRL for it was given).
   */
  checkRevocations?: boolean | ((request: CrlRequest) => boolean);
  /** Where CRLs come from; required with checkRevocations. */
  crls?: CrlGetter;
}

export interface VerifiedReport {
  report: AttestationReport;
  product: Product;
  signer: VekKind;
  vek: VekCertificate;
  ark: X509Certificate;
  intermediate: X509Certificate;
  /** True when the chain ends in AMD's pinned ARK, false for a configured (virtual) root. */
  genuine: boolean;
  reportedTcb: Tcb;
}

/**
 * Is the report genuine? Parses it strictly, resolves the product, chains the VEK to a
 * trusted ARK (AMD's pinned roots always; configured ones when given), checks validity at
 * `options.now`, binds the VEK to the report (signer kind, SPLs == REPORTED_TCB, hwID ==
 * CHIP_ID) and checks the ECDSA P-384 signature. Acceptability is `validateReport`'s job.
 */
export async function verifyReport(evidence: Evidence, options: VerifyOptions): Promise<VerifiedReport> {
  const report = parseReport(evidence.report);
  const signer: VekKind = report.signerInfo.signingKey === SigningKey.VLEK ? 'VLEK' : 'VCEK';
  const table = certificatesOf(evidence.certTable, signer);
  const supplied = [...(evidence.chain ?? [])].map((c) => toDer(c));
  supplied.push(...table.chain);

  let vekInput = evidence.vek ?? table.vek;
  if (!vekInput) {
    const product = resolveProduct(report, undefined, options.product);
    if (!options.fetcher) throw new CertificateMalformed(`no ${signer} certificate was supplied and fetching is disabled`);
    const fetched = await options.fetcher({ product, kind: signer, chipId: report.chipId, reportedTcb: decodeTcb(report.reportedTcb, product) });
    vekInput = fetched.vek;
    supplied.push(...(fetched.chain ?? []).map((c) => toDer(c)));
  }
  const vek = parseVek(vekInput);
  const product = resolveProduct(report, vek, options.product);
  if (vek.kind !== signer) throw new VekKindMismatch(signer, vek.kind);

  const { root, intermediate } = chainToRoot(vek, product, supplied.map(loadCertificate), options.trustedRoots ?? []);
  checkValidity('ARK', root.ark, options.now);
  checkValidity(signer === 'VLEK' ? 'ASVK' : 'ASK', intermediate, options.now);
  checkValidity('VEK', vek.cert, options.now);
  const crlRequest: CrlRequest = { product, kind: signer, ark: root.ark, genuine: root.genuine };
  const checkRevocations = typeof options.checkRevocations === 'function' ? options.checkRevocations(crlRequest) : options.checkRevocations;
  if (checkRevocations) await checkRevocation(crlRequest, intermediate, options.crls, options.now);

  const reportedTcb = decodeTcb(report.reportedTcb, product);
  bindVekToReport(vek, report, reportedTcb, product);
  checkReportSignature(evidence.report, report, vek);
  return { report, product, signer, vek, ark: root.ark, intermediate, genuine: root.genuine, reportedTcb };
}

/** CPUID (v3+), the VEK's productName and the caller's product must agree; one must exist. */
function resolveProduct(report: AttestationReport, vek: VekCertificate | undefined, given: Product | undefined): Product {
  const sources: [string, Product][] = [];
  if (report.cpuid) sources.push(['report CPUID', productFromCpuid(report.cpuid)]);
  if (vek) sources.push(['VEK productName', vek.product]);
  if (given) sources.push(['requested product', given]);
  const first = sources[0];
  if (!first) throw new ProductUnknown('a version 2 report names no product: supply the VEK or the product');
  for (const [source, product] of sources) {
    if (product !== first[1]) {
      throw new ProductMismatch(`${source} says ${product} but ${first[0]} says ${first[1]}`, {
        expected: first[1],
        actual: product,
        sources: Object.fromEntries(sources),
      });
    }
  }
  return first[1];
}

function commonName(dn: string): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(dn)?.[1];
}

function sameCert(a: X509Certificate, b: X509Certificate): boolean {
  return a.raw.equals(b.raw);
}

/**
 * VEK → ASK/ASVK → ARK. An ARK supplied with the evidence is accepted only if it equals a
 * trusted one; intermediates may come from the evidence or from the trusted bundles, but each
 * must be signed by a trusted ARK of the product, and carry the name AMD gives it.
 */
function chainToRoot(vek: VekCertificate, product: Product, supplied: X509Certificate[], configured: TrustedRoot[]): { root: TrustedRoot; intermediate: X509Certificate } {
  const roots = [...amdRoots(), ...configured].filter((r) => r.product === product);
  const isArk = (c: X509Certificate) => c.subject === c.issuer && commonName(c.subject)?.startsWith('ARK-');
  for (const ark of supplied.filter(isArk)) {
    if (!roots.some((r) => sameCert(r.ark, ark))) {
      throw new ArkNotTrusted(`the ARK supplied with the evidence ("${commonName(ark.subject)}") is not a trusted ${product} root`);
    }
  }
  const intermediateName = vek.kind === 'VLEK' ? `SEV-VLEK-${product}` : `SEV-${product}`;
  const candidates = [...supplied.filter((c) => !isArk(c)), ...roots.flatMap((r) => (vek.kind === 'VLEK' ? r.asvk : r.ask) ?? [])].filter((c) => c.subject === vek.cert.issuer);
  // The VEK's actual issuer is the candidate whose key verifies it; only then is that issuer
  // itself judged, so an error says which link of the chain is broken.
  const issuers = candidates.filter((c) => vek.cert.verify(c.publicKey));
  if (issuers.length === 0) {
    throw new VekSignatureInvalid(`the ${vek.kind} is not signed by any ${intermediateName} offered or trusted`);
  }
  for (const intermediate of issuers) {
    if (commonName(intermediate.subject) !== intermediateName || !intermediate.ca) continue;
    const root = roots.find((r) => intermediate.issuer === r.ark.subject && intermediate.verify(r.ark.publicKey));
    if (root) return { root, intermediate };
  }
  throw new IntermediateSignatureInvalid(`the ${intermediateName} that signed the ${vek.kind} is not signed by a trusted ${product} ARK`);
}

/**
 * The ARK's CRL must verify against that ARK and must not list the ASK/ASVK that issued the VEK.
 * A CRL speaks for its issuer's certificates only: AMD publishes no ASK-issued CRL, so a VEK is
 * revoked through its ASK, and VEK serials are not looked up in the ARK's list.
 */
async function checkRevocation(request: CrlRequest, intermediate: X509Certificate, crls: CrlGetter | undefined, now: Date): Promise<void> {
  const got = crls ? await crls(request) : undefined;
  const ders = got === undefined ? [] : got instanceof Uint8Array ? [got] : [...got];
  if (ders.length === 0) throw new CrlUnavailable(`no ${request.product} ${request.kind} CRL is available for the revocation check`, { product: request.product, kind: request.kind });
  for (const der of ders) {
    const crl = parseCrl(der);
    verifyCrl(crl, request.ark);
    assertCrlCurrent(crl, now);
    assertNotRevoked(crl, intermediate, request.kind === 'VLEK' ? 'ASVK' : 'ASK');
  }
}

function checkValidity(which: string, cert: X509Certificate, now: Date): void {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const at = now.toISOString();
  if (now < notBefore) throw which === 'VEK' ? new VekNotYetValid(notBefore.toISOString(), at) : new CertificateNotYetValid(which, notBefore.toISOString(), at);
  if (now > notAfter) throw which === 'VEK' ? new VekExpired(notAfter.toISOString(), at) : new CertificateExpired(which, notAfter.toISOString(), at);
}

/** Identity first (hwID == CHIP_ID for a VCEK), then the SPLs the VEK was derived for. */
function bindVekToReport(vek: VekCertificate, report: AttestationReport, reportedTcb: Tcb, product: Product): void {
  if (vek.kind === 'VCEK') {
    const hwId = vek.hwId!;
    const significant = product === 'Turin' ? 8 : 64;
    const chipMatches = hwId.length === significant && report.chipId.subarray(0, significant).equals(hwId) && report.chipId.subarray(significant).every((b) => b === 0);
    if (!chipMatches) throw new VekChipMismatch(hwId.toString('hex'), report.chipId.toString('hex'));
  }
  for (const component of TCB_COMPONENTS) {
    const expected = reportedTcb[component];
    if (expected === undefined) continue;
    const actual = vek.tcb[component];
    if (actual !== expected) throw new VekTcbMismatch(component, expected, actual ?? -1);
  }
}

/**
 * ECDSA P-384 over bytes 0x000–0x29F. High s is accepted: (r, s) and (r, n − s) both verify, and
 * AMD's firmware does not normalise s (most of the genuine reports in test/fixtures/snp carry
 * s > n/2), so refusing it would refuse genuine evidence. The other form proves the same signed
 * bytes, so it gives nothing a copy of the original would not, as long as nothing identifies a
 * report by its signature or whole bytes: nothing in skr does (freshness comes from the challenge
 * in REPORT_DATA), and a future cache or replay check must key on the signed bytes. The zero
 * padding of R and S is checked by the parser.
 */
function checkReportSignature(bytes: Uint8Array, report: AttestationReport, vek: VekCertificate): void {
  const key = vek.cert.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    throw new CertificateMalformed('the VEK key is not an ECDSA P-384 key');
  }
  const ok = verifySignature('sha384', signedBytes(bytes), { key, dsaEncoding: 'ieee-p1363' }, signatureToP1363(report.signature));
  if (!ok) throw new ReportSignatureInvalid();
}
