import { X509Certificate } from 'node:crypto';
import { certificatesOf, productFromCpuid, type Product, parseReport, SigningKey, decodeTcb, type CertSources, type ReportDevice, amdRoots, CoalescingDevice, LimitedDevice } from '../snp';

/** A report and everything a verifier needs with it. */
export interface Evidence {
  report: Buffer;
  /** PEM: VCEK/VLEK, then ASK/ASVK, then ARK. */
  vcekCertChain: string;
  uvmEndorsements?: Buffer;
  /** The TCB the VEK was issued for, as THIM's `tcbm`: the u64 in hex, most significant byte first. */
  endorsedTcb: string;
}

export interface EvidenceOptions {
  /** The product of v2 reports, which carry no CPUID; Azure Container Instances run on Milan. */
  defaultProduct: Product;
}

/**
 * The device as every route and the KBS client use it: identical requests in flight together
 * share the next report (CoalescingDevice), and at most `concurrency` distinct requests are at
 * the device at once (LimitedDevice, below the coalescing: a burst of one runtime data from 32
 * callers takes one place at the device rather than queueing 32 reports behind the limit).
 */
export function reportDevice(device: ReportDevice, concurrency: number): ReportDevice {
  return new CoalescingDevice(new LimitedDevice(device, concurrency));
}

const pem = (der: Buffer) => new X509Certificate(der).toString();

/**
 * Gets reports from the device and pairs each with its certificate chain: the device's own
 * certificate table first (extended report / auxblob), then the configured certificate sources
 * (UVM security context, THIM, KDS), and AMD's pinned ASK/ARK when a source gives the VEK alone.
 */
export class EvidenceCollector {
  constructor(
    readonly device: ReportDevice,
    private readonly certs: CertSources,
    private readonly options: EvidenceOptions,
  ) {}

  /** A bare report. */
  async report(reportData: Buffer): Promise<Buffer> {
    const { report } = await this.device.getReport({ reportData });
    return report;
  }

  async collect(reportData: Buffer, vmpl?: number): Promise<Evidence> {
    const { report, certTable } = await this.device.getReport({ reportData, vmpl, withCerts: true });
    const parsed = parseReport(report);
    const product = parsed.cpuid ? productFromCpuid(parsed.cpuid) : this.options.defaultProduct;
    const kind = parsed.signerInfo.signingKey === SigningKey.VLEK ? 'VLEK' : 'VCEK';
    const fromTable = certificatesOf(certTable, kind);
    let chain: Buffer[];
    if (fromTable.vek) {
      chain = [fromTable.vek, ...fromTable.chain];
    } else {
      const fetched = await this.certs.fetchVek({ product, kind, chipId: parsed.chipId, reportedTcb: decodeTcb(parsed.reportedTcb, product) });
      chain = [fetched.vek, ...(fetched.chain ?? [])].map((c) => (typeof c === 'string' ? Buffer.from(new X509Certificate(c).raw) : Buffer.from(c)));
    }
    if (chain.length === 1) {
      const root = amdRoots().find((r) => r.product === product)!;
      chain.push((kind === 'VLEK' ? root.asvk! : root.ask!).raw, root.ark.raw);
    }
    return {
      report,
      vcekCertChain: chain.map(pem).join(''),
      uvmEndorsements: await this.certs.uvmEndorsements(),
      endorsedTcb: parsed.reportedTcb.toString(16).padStart(16, '0'),
    };
  }
}
