/** GUEST_POLICY (report 0x008) and PLATFORM_INFO (0x040) bits, SNP ABI 56860. */
export interface GuestPolicy {
  abiMinor: number;
  abiMajor: number;
  smt: boolean;
  migrateMa: boolean;
  debug: boolean;
  singleSocket: boolean;
  cxlAllow: boolean;
  memAes256Xts: boolean;
  raplDis: boolean;
  ciphertextHiding: boolean;
  pageSwapDisable: boolean;
}

const bit = (value: bigint, n: number): boolean => ((value >> BigInt(n)) & 1n) === 1n;

/** Bit 17 is reserved and must be one; 63:26 must be zero. */
export const POLICY_RESERVED_ONE = 1n << 17n;
export const POLICY_MBZ_MASK = ~((1n << 26n) - 1n) & 0xffffffffffffffffn;

export function decodeGuestPolicy(policy: bigint): GuestPolicy {
  return {
    abiMinor: Number(policy & 0xffn),
    abiMajor: Number((policy >> 8n) & 0xffn),
    smt: bit(policy, 16),
    migrateMa: bit(policy, 18),
    debug: bit(policy, 19),
    singleSocket: bit(policy, 20),
    cxlAllow: bit(policy, 21),
    memAes256Xts: bit(policy, 22),
    raplDis: bit(policy, 23),
    ciphertextHiding: bit(policy, 24),
    pageSwapDisable: bit(policy, 25),
  };
}

export function encodeGuestPolicy(p: GuestPolicy): bigint {
  const flags: [boolean, number][] = [
    [p.smt, 16],
    [p.migrateMa, 18],
    [p.debug, 19],
    [p.singleSocket, 20],
    [p.cxlAllow, 21],
    [p.memAes256Xts, 22],
    [p.raplDis, 23],
    [p.ciphertextHiding, 24],
    [p.pageSwapDisable, 25],
  ];
  let value = BigInt(p.abiMinor & 0xff) | (BigInt(p.abiMajor & 0xff) << 8n) | POLICY_RESERVED_ONE;
  for (const [on, n] of flags) if (on) value |= 1n << BigInt(n);
  return value;
}

export interface PlatformInfo {
  smtEnabled: boolean;
  tsmeEnabled: boolean;
  eccEnabled: boolean;
  raplDisabled: boolean;
  ciphertextHidingEnabled: boolean;
  aliasCheckComplete: boolean;
  /** Bit 6: IOMMU_WRITE_SAFE on Turin (set on genuine Turin reports; not reserved). */
  iommuWriteSafe: boolean;
  sevTioEnabled: boolean;
}

/** Names of the PLATFORM_INFO bits, for validation messages and allow masks. */
export const PLATFORM_INFO_BITS: Record<keyof PlatformInfo, number> = {
  smtEnabled: 0,
  tsmeEnabled: 1,
  eccEnabled: 2,
  raplDisabled: 3,
  ciphertextHidingEnabled: 4,
  aliasCheckComplete: 5,
  iommuWriteSafe: 6,
  sevTioEnabled: 7,
};

export function decodePlatformInfo(info: bigint): PlatformInfo {
  const out = {} as PlatformInfo;
  for (const [name, n] of Object.entries(PLATFORM_INFO_BITS)) out[name as keyof PlatformInfo] = bit(info, n);
  return out;
}
