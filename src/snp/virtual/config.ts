import { randomBytes } from 'node:crypto';
import { InvalidArgument, VirtualStateInvalid } from '../../errors';
import { POLICY_MBZ_MASK, POLICY_RESERVED_ONE } from '../abi/policy';
import { hasFmc, isProduct, type Product } from '../abi/product';
import { MAX_VMPL, type FirmwareVersion } from '../abi/report';
import { TCB_COMPONENTS, type Tcb } from '../abi/tcb';
import { isVmpl } from '../device/request';
import { checkUint, toBytes } from './bytes';
import { PRODUCT_PROFILES } from './profiles';
import type { GuestConfig, GuestOptions, ReportVersion, VirtualDeviceConfig, VirtualPkiOptions } from './types';

/**
 * The device configuration: defaults, option checking, and its device.json form (byte fields
 * hex, u64 fields "0x…" strings, since JSON numbers cannot hold them).
 */

function checkProduct(product: string): Product {
  if (!isProduct(product)) throw new InvalidArgument(`product must be Milan, Genoa or Turin, got "${product}"`, { field: 'product' });
  return product;
}

/** A TCB in the product's shape: fmc present (default 0) on Turin and absent before. */
function normalizeTcb(tcb: Tcb, product: Product): Tcb {
  const out: Tcb = { bootloader: tcb.bootloader, tee: tcb.tee, snp: tcb.snp, microcode: tcb.microcode };
  if (hasFmc(product)) out.fmc = tcb.fmc ?? 0;
  else if (tcb.fmc !== undefined && tcb.fmc !== 0) throw new InvalidArgument(`${product} has no FMC TCB component`, { field: 'tcb.fmc' });
  for (const component of TCB_COMPONENTS) if (out[component] !== undefined) checkUint(`tcb.${component}`, out[component]!, 8);
  return out;
}

/** CHIP_ID as the report carries it: 64 bytes; Turin chips have an 8-byte id and zeros after. */
function normalizeChipId(value: VirtualPkiOptions['chipId'], product: Product): Buffer {
  const significant = PRODUCT_PROFILES[product].chipIdLength;
  if (value === undefined) return Buffer.concat([randomBytes(significant), Buffer.alloc(64 - significant)]);
  const size = typeof value === 'string' ? value.replace(/^0x/, '').length / 2 : value.length;
  const chipId = Buffer.alloc(64);
  toBytes('chipId', value, size === significant ? significant : 64).copy(chipId);
  if (!chipId.subarray(significant).every((b) => b === 0)) {
    throw new InvalidArgument(`a ${product} CHIP_ID has ${significant} significant bytes; the rest must be zero`, { field: 'chipId' });
  }
  return chipId;
}

function checkGuest(guest: GuestConfig): GuestConfig {
  if (![2, 3, 5].includes(guest.version)) throw new InvalidArgument(`report version must be 2, 3 or 5, got ${guest.version}`, { field: 'version' });
  checkUint('guestSvn', guest.guestSvn, 32);
  if (!isVmpl(guest.vmpl)) throw new InvalidArgument(`vmpl must be 0..${MAX_VMPL}, got ${guest.vmpl}`, { field: 'vmpl' });
  checkUint('policy', guest.policy, 64);
  // The firmware refuses to launch a guest with such a policy, so no report can carry one.
  if ((guest.policy & POLICY_RESERVED_ONE) === 0n || (guest.policy & POLICY_MBZ_MASK) !== 0n) {
    throw new InvalidArgument(`guest policy 0x${guest.policy.toString(16)} needs bit 17 set and bits 63:26 clear`, { field: 'policy' });
  }
  return guest;
}

function firmware(v: FirmwareVersion): FirmwareVersion {
  for (const part of ['major', 'minor', 'build'] as const) checkUint(`firmware.${part}`, v[part], 8);
  return { major: v.major, minor: v.minor, build: v.build };
}

function applyGuest(base: GuestConfig, o: GuestOptions): GuestConfig {
  return checkGuest({
    version: o.version ?? base.version,
    guestSvn: o.guestSvn ?? base.guestSvn,
    policy: o.policy ?? base.policy,
    familyId: o.familyId === undefined ? base.familyId : toBytes('familyId', o.familyId, 16),
    imageId: o.imageId === undefined ? base.imageId : toBytes('imageId', o.imageId, 16),
    vmpl: o.vmpl ?? base.vmpl,
    measurement: o.measurement === undefined ? base.measurement : toBytes('measurement', o.measurement, 48),
    hostData: o.hostData === undefined ? base.hostData : toBytes('hostData', o.hostData, 32),
    idKeyDigest: o.idKeyDigest === undefined ? base.idKeyDigest : toBytes('idKeyDigest', o.idKeyDigest, 48),
    authorKeyDigest: o.authorKeyDigest === undefined ? base.authorKeyDigest : toBytes('authorKeyDigest', o.authorKeyDigest, 48),
  });
}

/**
 * The configuration of a new device. The measurement starts zero, as on go-sev-guest's fakes;
 * host_data is random, so no release policy bound to it matches a VM launched without host data.
 */
export function newConfig(options: VirtualPkiOptions): VirtualDeviceConfig {
  const product = checkProduct(options.product ?? 'Milan');
  const profile = PRODUCT_PROFILES[product];
  const base: VirtualDeviceConfig = {
    product,
    chipId: normalizeChipId(options.chipId, product),
    tcb: normalizeTcb(profile.tcb, product),
    firmware: profile.firmware,
    platformInfo: profile.platformInfo,
    mitigationVector: 0n,
    reportId: randomBytes(32),
    guest: {
      version: 5,
      guestSvn: 0,
      policy: 0x30000n,
      familyId: Buffer.alloc(16),
      imageId: Buffer.alloc(16),
      vmpl: 0,
      measurement: Buffer.alloc(48),
      hostData: randomBytes(32),
      idKeyDigest: Buffer.alloc(48),
      authorKeyDigest: Buffer.alloc(48),
    },
  };
  return applyOptions(base, options);
}

/**
 * `base` with the options applied. The chip's identity cannot change: a different product or
 * CHIP_ID is a different machine, which needs its own state directory.
 */
export function applyOptions(base: VirtualDeviceConfig, options: VirtualPkiOptions): VirtualDeviceConfig {
  if (options.product !== undefined && checkProduct(options.product) !== base.product) {
    throw new InvalidArgument(`the virtual state is a ${base.product} device, not ${options.product}; use another state directory`, {
      field: 'product',
      expected: base.product,
      actual: options.product,
    });
  }
  if (options.chipId !== undefined && !normalizeChipId(options.chipId, base.product).equals(base.chipId)) {
    throw new InvalidArgument('the virtual state has another CHIP_ID; use another state directory', { field: 'chipId' });
  }
  const mitigationVector = options.mitigationVector ?? base.mitigationVector;
  checkUint('mitigationVector', mitigationVector, 64);
  const platformInfo = options.platformInfo ?? base.platformInfo;
  checkUint('platformInfo', platformInfo, 64);
  return {
    product: base.product,
    chipId: base.chipId,
    tcb: options.tcb ? normalizeTcb(options.tcb, base.product) : base.tcb,
    firmware: firmware(options.firmware ?? base.firmware),
    platformInfo,
    mitigationVector,
    reportId: base.reportId,
    guest: applyGuest(base.guest, options),
  };
}

const hex64 = (v: bigint) => `0x${v.toString(16)}`;

export function configToJson(config: VirtualDeviceConfig, extra: Record<string, string>): string {
  const g = config.guest;
  return `${JSON.stringify(
    {
      format: 1,
      product: config.product,
      productName: PRODUCT_PROFILES[config.product].productName,
      chipId: config.chipId.toString('hex'),
      tcb: config.tcb,
      firmware: config.firmware,
      platformInfo: hex64(config.platformInfo),
      mitigationVector: hex64(config.mitigationVector),
      reportId: config.reportId.toString('hex'),
      guest: {
        version: g.version,
        guestSvn: g.guestSvn,
        policy: hex64(g.policy),
        familyId: g.familyId.toString('hex'),
        imageId: g.imageId.toString('hex'),
        vmpl: g.vmpl,
        measurement: g.measurement.toString('hex'),
        hostData: g.hostData.toString('hex'),
        idKeyDigest: g.idKeyDigest.toString('hex'),
        authorKeyDigest: g.authorKeyDigest.toString('hex'),
      },
      ...extra,
    },
    null,
    2,
  )}\n`;
}

function u64(value: unknown, field: string): bigint {
  if (typeof value !== 'string' || !/^0x[0-9a-f]{1,16}$/.test(value)) throw new InvalidArgument(`${field} is not a 0x-prefixed u64`, { field });
  return BigInt(value);
}

/** Reads device.json strictly; any defect is a damaged state, not a caller error. */
export function configFromJson(text: string): VirtualDeviceConfig {
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each field is checked below before it is used
    const j = JSON.parse(text) as Record<string, any>;
    if (j.format !== 1) throw new InvalidArgument(`unknown device.json format ${String(j.format)}`, { field: 'format' });
    const product = checkProduct(String(j.product));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
    const g = (j.guest ?? {}) as Record<string, any>;
    const tcb = j.tcb as Tcb;
    if (typeof tcb !== 'object' || tcb === null) throw new InvalidArgument('tcb missing', { field: 'tcb' });
    const base: VirtualDeviceConfig = {
      product,
      chipId: toBytes('chipId', String(j.chipId), 64),
      tcb: normalizeTcb(tcb, product),
      firmware: firmware(j.firmware as FirmwareVersion),
      platformInfo: u64(j.platformInfo, 'platformInfo'),
      mitigationVector: u64(j.mitigationVector, 'mitigationVector'),
      reportId: toBytes('reportId', String(j.reportId), 32),
      guest: checkGuest({
        version: g.version as ReportVersion,
        guestSvn: g.guestSvn,
        policy: u64(g.policy, 'guest.policy'),
        familyId: toBytes('familyId', String(g.familyId), 16),
        imageId: toBytes('imageId', String(g.imageId), 16),
        vmpl: g.vmpl,
        measurement: toBytes('measurement', String(g.measurement), 48),
        hostData: toBytes('hostData', String(g.hostData), 32),
        idKeyDigest: toBytes('idKeyDigest', String(g.idKeyDigest), 48),
        authorKeyDigest: toBytes('authorKeyDigest', String(g.authorKeyDigest), 48),
      }),
    };
    normalizeChipId(base.chipId, product);
    return base;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new VirtualStateInvalid(`device.json is not a valid virtual device configuration: ${reason}`, { file: 'device.json' });
  }
}
