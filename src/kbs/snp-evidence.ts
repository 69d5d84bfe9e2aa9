import { EvidenceMalformed } from '../errors';
import { CERT_GUIDS, decodeTcb, encodeTcb, parseCertTable, parseReport, productFromCpuid, serializeReport, type AttestationReport, type Evidence, type Product, type Tcb } from '../snp';

/**
 * SEV-SNP evidence in the two shapes `/kbs/v0/attest` accepts as `primary_evidence`:
 *
 * - guest-components' SNP attester (`tee: "snp"`): the serde dump of virtee/sev's
 *   `AttestationReport` plus `cert_chain` (trustee-kbs.md §4.1) — byte arrays as arrays of
 *   numbers, TCBs as {fmc, bootloader, tee, snp, microcode}, signature r/s as 72 little-endian
 *   bytes. It is rebuilt into the 0x4A0 raw report (reserved bytes zero, which the firmware
 *   writes and the signature covers), so skr's one verifier checks the bytes AMD signed.
 * - skr's own: `{"report": base64 raw report, "certTable"?: base64 GHCB table,
 *   "vcekCertChain"?: PEM VEK then chain}`.
 *
 * Report versions 3 and 5 only, as trustee: version 2 carries no CPUID, so its TCB layout
 * cannot be told from the evidence.
 */
export type SnpEvidenceShape = 'guest-components' | 'skr';

const CERT_TYPES = ['ARK', 'ASK', 'VCEK', 'VLEK', 'CRL', 'Empty'] as const;
const MAX_CHAIN = 8;
const MAX_CERT_BYTES = 16 * 1024;

function bad(field: string, what: string): never {
  throw new EvidenceMalformed(`primary_evidence.${field} ${what}`, { field });
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(field, 'is not an object');
  return value as Record<string, unknown>;
}

function get(obj: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

function bytes(value: unknown, field: string, length?: number, max = length): Buffer {
  if (!Array.isArray(value) || (length !== undefined && value.length !== length) || (max !== undefined && value.length > max)) {
    bad(field, length !== undefined ? `is not ${length} bytes` : 'is not a byte array');
  }
  if (!value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) bad(field, 'holds a value that is not a byte');
  return Buffer.from(value as number[]);
}

function integer(value: unknown, field: string, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max) bad(field, `is not an integer 0..${max}`);
  return value as number;
}

function u64(value: unknown, field: string): bigint {
  return BigInt(integer(value, field, Number.MAX_SAFE_INTEGER));
}

function tcb(value: unknown, field: string, product: Product): bigint {
  const t = object(value, field);
  const component = (name: keyof Tcb) => integer(get(t, name), `${field}.${name}`, 0xff);
  const fmc = get(t, 'fmc');
  const parsed: Tcb = { bootloader: component('bootloader'), tee: component('tee'), snp: component('snp'), microcode: component('microcode') };
  if (fmc !== null && fmc !== undefined) parsed.fmc = integer(fmc, `${field}.fmc`, 0xff);
  const raw = encodeTcb(parsed, product);
  // A component the product's layout has no place for (fmc before Turin) would be lost silently.
  if (JSON.stringify(decodeTcb(raw, product)) !== JSON.stringify(parsed)) bad(field, `does not fit ${product}'s TCB layout`);
  return raw;
}

function version(value: unknown, field: string): AttestationReport['currentVersion'] {
  const v = object(value, field);
  return { major: integer(get(v, 'major'), `${field}.major`, 0xff), minor: integer(get(v, 'minor'), `${field}.minor`, 0xff), build: integer(get(v, 'build'), `${field}.build`, 0xff) };
}

function optionalU64(value: unknown, field: string): bigint | undefined {
  return value === null || value === undefined ? undefined : u64(value, field);
}

/** The raw report a guest-components `attestation_report` object stands for. */
export function reportFromSerde(value: unknown): Buffer {
  const r = object(value, 'attestation_report');
  const f = (name: string) => get(r, name);
  const at = (name: string) => `attestation_report.${name}`;
  const reportVersion = integer(f('version'), at('version'), 0xffffffff);
  if (reportVersion !== 3 && reportVersion !== 5) bad(at('version'), 'must be 3 or 5');
  const cpuid = {
    family: integer(f('cpuid_fam_id'), at('cpuid_fam_id'), 0xff),
    model: integer(f('cpuid_mod_id'), at('cpuid_mod_id'), 0xff),
    stepping: integer(f('cpuid_step'), at('cpuid_step'), 0xff),
  };
  let product: Product;
  try {
    product = productFromCpuid(cpuid);
  } catch {
    bad(at('cpuid_fam_id'), 'does not name a known SEV-SNP product');
  }
  const keyInfo = integer(f('key_info'), at('key_info'), 0x1f);
  const signature = object(f('signature'), at('signature'));
  const report: AttestationReport = {
    version: reportVersion,
    guestSvn: integer(f('guest_svn'), at('guest_svn'), 0xffffffff),
    policy: u64(f('policy'), at('policy')),
    familyId: bytes(f('family_id'), at('family_id'), 16),
    imageId: bytes(f('image_id'), at('image_id'), 16),
    vmpl: integer(f('vmpl'), at('vmpl'), 0xffffffff),
    signatureAlgo: integer(f('sig_algo'), at('sig_algo'), 0xffffffff),
    currentTcb: tcb(f('current_tcb'), at('current_tcb'), product),
    platformInfo: u64(f('plat_info'), at('plat_info')),
    signerInfo: { authorKeyEn: (keyInfo & 1) !== 0, maskChipKey: (keyInfo & 2) !== 0, signingKey: (keyInfo >>> 2) & 7 },
    reportData: bytes(f('report_data'), at('report_data'), 64),
    measurement: bytes(f('measurement'), at('measurement'), 48),
    hostData: bytes(f('host_data'), at('host_data'), 32),
    idKeyDigest: bytes(f('id_key_digest'), at('id_key_digest'), 48),
    authorKeyDigest: bytes(f('author_key_digest'), at('author_key_digest'), 48),
    reportId: bytes(f('report_id'), at('report_id'), 32),
    reportIdMa: bytes(f('report_id_ma'), at('report_id_ma'), 32),
    reportedTcb: tcb(f('reported_tcb'), at('reported_tcb'), product),
    cpuid,
    chipId: bytes(f('chip_id'), at('chip_id'), 64),
    committedTcb: tcb(f('committed_tcb'), at('committed_tcb'), product),
    currentVersion: version(f('current'), at('current')),
    committedVersion: version(f('committed'), at('committed')),
    launchTcb: tcb(f('launch_tcb'), at('launch_tcb'), product),
    signature: { r: bytes(get(signature, 'r'), at('signature.r'), 72), s: bytes(get(signature, 's'), at('signature.s'), 72) },
  };
  if (reportVersion >= 5) {
    const launch = optionalU64(f('launch_mit_vector'), at('launch_mit_vector'));
    const current = optionalU64(f('current_mit_vector'), at('current_mit_vector'));
    if (launch !== undefined) report.launchMitVector = launch;
    if (current !== undefined) report.currentMitVector = current;
  }
  const raw = serializeReport(report);
  parseReport(raw); // the codec's own checks: reserved bits, signer, policy bit 17
  return raw;
}

function certChainFromSerde(value: unknown): { vek?: Buffer; chain: Buffer[] } {
  if (value === null || value === undefined) return { chain: [] };
  if (!Array.isArray(value) || value.length > MAX_CHAIN) bad('cert_chain', `is not a list of at most ${MAX_CHAIN} certificates`);
  let vek: Buffer | undefined;
  const above: Record<'ASK' | 'ARK', Buffer[]> = { ASK: [], ARK: [] };
  value.forEach((entry, i) => {
    const cert = object(entry, `cert_chain[${i}]`);
    const type = get(cert, 'cert_type');
    // {"OTHER": uuid} entries are vendor data the verifier does not use.
    if (typeof type === 'object' && type !== null) return;
    if (typeof type !== 'string' || !(CERT_TYPES as readonly string[]).includes(type)) bad(`cert_chain[${i}].cert_type`, 'is not a known certificate type');
    const data = bytes(get(cert, 'data'), `cert_chain[${i}].data`, undefined, MAX_CERT_BYTES);
    if (type === 'VCEK' || type === 'VLEK') vek = data;
    else if (type === 'ASK' || type === 'ARK') above[type].push(data);
  });
  // The verifier wants the chain above the VEK in order: ASK (or ASVK) first, then ARK.
  const chain = [...above.ASK, ...above.ARK];
  return vek ? { vek, chain } : { chain };
}

function base64(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) bad(field, 'is not base64');
  return Buffer.from(value, 'base64');
}

/** Evidence for skr's verifier from `primary_evidence`, in either shape. */
export function parseSnpEvidence(value: unknown): { evidence: Evidence; shape: SnpEvidenceShape } {
  const body = object(value, '(root)');
  if (Object.hasOwn(body, 'attestation_report')) {
    const report = reportFromSerde(get(body, 'attestation_report'));
    const { vek, chain } = certChainFromSerde(get(body, 'cert_chain'));
    return { evidence: { report, ...(vek ? { vek } : {}), chain }, shape: 'guest-components' };
  }
  if (typeof get(body, 'report') === 'string') {
    const evidence: Evidence = { report: base64(get(body, 'report'), 'report') };
    const table = get(body, 'certTable');
    if (table !== undefined) evidence.certTable = base64(table, 'certTable');
    const pem = get(body, 'vcekCertChain');
    if (pem !== undefined) {
      if (typeof pem !== 'string') bad('vcekCertChain', 'is not PEM text');
      const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      if (certs.length === 0) bad('vcekCertChain', 'holds no certificate');
      evidence.vek = certs[0]!;
      evidence.chain = certs.slice(1);
    }
    return { evidence, shape: 'skr' };
  }
  bad('(root)', "is neither guest-components' {attestation_report, cert_chain} nor skr's {report}");
}

function serdeTcb(raw: bigint, product: Product): Record<string, number | null> {
  const t = decodeTcb(raw, product);
  return { fmc: t.fmc ?? null, bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode };
}

/** The guest-components `SnpEvidence` for a raw report and its certificate table (what the client sends). */
export function snpEvidenceOf(rawReport: Uint8Array, certTable?: Uint8Array): Record<string, unknown> {
  const r = parseReport(rawReport);
  if (!r.cpuid) throw new EvidenceMalformed('a version 2 report has no CPUID: guest-components evidence needs version 3 or later');
  const product = productFromCpuid(r.cpuid);
  const list = (b: Buffer) => [...b];
  const keyInfo = (r.signerInfo.authorKeyEn ? 1 : 0) | (r.signerInfo.maskChipKey ? 2 : 0) | (r.signerInfo.signingKey << 2);
  const names: Record<string, string> = { [CERT_GUIDS.ark]: 'ARK', [CERT_GUIDS.ask]: 'ASK', [CERT_GUIDS.vcek]: 'VCEK', [CERT_GUIDS.vlek]: 'VLEK' };
  const chain = certTable ? parseCertTable(certTable).flatMap((entry) => (names[entry.guid] ? [{ cert_type: names[entry.guid], data: list(Buffer.from(entry.data)) }] : [])) : null;
  return {
    attestation_report: {
      version: r.version,
      guest_svn: r.guestSvn,
      policy: Number(r.policy),
      family_id: list(r.familyId),
      image_id: list(r.imageId),
      vmpl: r.vmpl,
      sig_algo: r.signatureAlgo,
      current_tcb: serdeTcb(r.currentTcb, product),
      plat_info: Number(r.platformInfo),
      key_info: keyInfo,
      report_data: list(r.reportData),
      measurement: list(r.measurement),
      host_data: list(r.hostData),
      id_key_digest: list(r.idKeyDigest),
      author_key_digest: list(r.authorKeyDigest),
      report_id: list(r.reportId),
      report_id_ma: list(r.reportIdMa),
      reported_tcb: serdeTcb(r.reportedTcb, product),
      cpuid_fam_id: r.cpuid.family,
      cpuid_mod_id: r.cpuid.model,
      cpuid_step: r.cpuid.stepping,
      chip_id: list(r.chipId),
      committed_tcb: serdeTcb(r.committedTcb, product),
      current: r.currentVersion,
      committed: r.committedVersion,
      launch_tcb: serdeTcb(r.launchTcb, product),
      launch_mit_vector: r.launchMitVector === undefined ? null : Number(r.launchMitVector),
      current_mit_vector: r.currentMitVector === undefined ? null : Number(r.currentMitVector),
      signature: { r: list(r.signature.r), s: list(r.signature.s) },
    },
    cert_chain: chain,
  };
}
