import { X509Certificate } from 'node:crypto';
import { Semaphore } from '../lib/semaphore';
import { certificatesOf, productFromCpuid, type Product, parseReport, SigningKey, decodeTcb, type CertSources, type ReportDevice, amdRoots } from '../snp';

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
  /** How many report requests may be in flight at the device. */
  deviceConcurrency: number;
}

const pem = (der: Buffer) => new X509Certificate(der).toString();

/**
 * Gets reports from the device and pairs each with its certificate chain: the device's own
 * certificate table first (extended report / auxblob), then the configured certificate sources
 * (UVM security context, THIM, KDS), and AMD's pinned ASK/ARK when a source gives the VEK alone.
 */
export class EvidenceCollector {
  private readonly gate: Semaphore;

  constructor(
    readonly device: ReportDevice,
    private readonly certs: CertSources,
    private readonly options: EvidenceOptions,
  ) {
    this.gate = new Semaphore(options.deviceConcurrency);
  }

  /** A bare report, through the same device-concurrency limit as evidence. */
  async report(reportData: Buffer): Promise<Buffer> {
    const { report } = await this.gate.run(() => this.device.getReport({ reportData }));
    return report;
  }

  /** The device behind the same concurrency limit, for a client that reads reports itself (the KBS client). */
  limitedDevice(): ReportDevice {
    const { device, gate } = this;
    return {
      name: device.name,
      path: device.path,
      virtual: device.virtual,
      getReport: (request) => gate.run(() => device.getReport(request)),
      close: () => device.close(),
    };
  }

  async collect(reportData: Buffer, vmpl?: number): Promise<Evidence> {
    const { report, certTable } = await this.gate.run(() => this.device.getReport({ reportData, vmpl, withCerts: true }));
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
