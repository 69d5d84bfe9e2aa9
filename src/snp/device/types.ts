/** What every report source returns: the raw report and, when the source has one, the certificate table. */
export interface DeviceReport {
  /** The 0x4A0-byte ATTESTATION_REPORT, exactly as the firmware (or the virtual device) produced it. */
  report: Buffer;
  /** The GHCB certificate table (SNP_GET_EXT_REPORT certs / configfs-tsm auxblob), when requested and provided. */
  certTable?: Buffer;
}

export interface ReportRequest {
  /** Exactly 64 bytes of REPORT_DATA. */
  reportData: Buffer;
  /** VMPL to request the report at (0–3); default 0. */
  vmpl?: number;
  /** Ask for the certificate table too (extended report / auxblob). */
  withCerts?: boolean;
}

/** A source of SEV-SNP reports. Implementations serialise their own requests. */
export interface ReportDevice {
  /** Its name in the device registry (registry.ts). */
  readonly name: string;
  /** Where it reads from (device node, configfs directory, or state directory). */
  readonly path: string;
  /** True only for the virtual device: its reports are not hardware evidence. */
  readonly virtual: boolean;
  getReport(request: ReportRequest): Promise<DeviceReport>;
  close(): Promise<void>;
}
