import type { KeyObject, X509Certificate } from 'node:crypto';
import type { Product } from '../abi/product';
import type { FirmwareVersion } from '../abi/report';
import type { Tcb } from '../abi/tcb';
import type { TrustedRoot } from '../roots';

export type ReportVersion = 2 | 3 | 5;

/** A certificate of the virtual chain with the private key that goes with it. */
export interface KeyedCertificate {
  der: Buffer;
  pem: string;
  cert: X509Certificate;
  key: KeyObject;
}

/** What the guest was launched with: the per-VM fields of every report. */
export interface GuestConfig {
  version: ReportVersion;
  guestSvn: number;
  policy: bigint;
  familyId: Buffer;
  imageId: Buffer;
  /** The VMPL the guest runs at: the default for requests, and the lowest it may ask for. */
  vmpl: number;
  measurement: Buffer;
  hostData: Buffer;
  idKeyDigest: Buffer;
  authorKeyDigest: Buffer;
}

/** The simulated machine and guest, persisted as `<state>/virtual/device.json`. */
export interface VirtualDeviceConfig {
  product: Product;
  /** 64 bytes; on Turin only the first 8 are significant and the rest are zero. */
  chipId: Buffer;
  /** The TCB the VCEK is issued for; also CURRENT, COMMITTED and LAUNCH TCB of the reports. */
  tcb: Tcb;
  firmware: FirmwareVersion;
  platformInfo: bigint;
  /** Version 5 reports carry it as both LAUNCH_ and CURRENT_MIT_VECTOR. */
  mitigationVector: bigint;
  /** REPORT_ID: per-guest, random at creation. */
  reportId: Buffer;
  guest: GuestConfig;
}

/** Byte fields may be given as Buffers or hex strings (as the CLI and device.json carry them). */
export type BytesInput = Uint8Array | string;

export interface GuestOptions {
  version?: ReportVersion;
  guestSvn?: number;
  policy?: bigint;
  familyId?: BytesInput;
  imageId?: BytesInput;
  vmpl?: number;
  measurement?: BytesInput;
  hostData?: BytesInput;
  idKeyDigest?: BytesInput;
  authorKeyDigest?: BytesInput;
}

export interface VirtualPkiOptions extends GuestOptions {
  /** Product line of a new state (default Milan); an existing state must agree. */
  product?: Product;
  /** CHIP_ID of a new state (random by default): 64 bytes, or 8 on Turin; an existing state must agree. */
  chipId?: BytesInput;
  /** The TCB; changing it on an existing state re-issues the VCEK with a new key, as KDS would. */
  tcb?: Tcb;
  firmware?: FirmwareVersion;
  platformInfo?: bigint;
  mitigationVector?: bigint;
  /** The time new certificates start from (default now). */
  now?: Date;
}

export interface VirtualPki {
  stateDir: string;
  /** `<stateDir>/virtual`, where the files live. */
  dir: string;
  product: Product;
  config: VirtualDeviceConfig;
  ark: KeyedCertificate;
  ask: KeyedCertificate;
  vcek: KeyedCertificate;
  /** SHA-256 of the ARK DER, hex: what an operator pins. */
  arkSha256: string;
  /** The ARK as a configured trust root for `verifyReport`. */
  root: TrustedRoot;
  /** GHCB certificate table with the VCEK, ASK and ARK. */
  certTable: Buffer;
  uvm: VirtualUvm;
}

/** The virtual UVM's endorsement and who signed it (see uvm-endorsement.ts). */
export interface VirtualUvm {
  root: X509Certificate;
  signer: KeyedCertificate;
  /** The signer's did:x509 and feed: the pair a verifier pins to trust this state's endorsements. */
  issuer: { did: string; feed: string };
  /** The COSE_Sign1 reference info for the current launch measurement. */
  endorsement: Buffer;
  /** A directory laid out as ACI's UVM security context (reference-info-base64). */
  securityContextDir: string;
}
