import type { CreateKeyOptions, KeyCurveName, KeyOperation } from '@azure/keyvault-keys';
import { InvalidArgument } from '../../errors';

/** The key types that can carry a release policy: HSM-backed only. */
const HSM_KEY_TYPES = ['oct-HSM', 'RSA-HSM', 'EC-HSM'] as const;
export type HsmKeyType = (typeof HSM_KEY_TYPES)[number];

const SIZES: Record<Exclude<HsmKeyType, 'EC-HSM'>, { allowed: number[]; default: number }> = {
  'RSA-HSM': { allowed: [2048, 3072, 4096], default: 3072 },
  'oct-HSM': { allowed: [128, 192, 256], default: 256 },
};
const CURVES = ['P-256', 'P-384', 'P-521', 'P-256K'];
const OPERATIONS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey', 'import', 'export'];

export function parseKeyType(value: string | undefined): HsmKeyType {
  const kty = HSM_KEY_TYPES.find((t) => t === value);
  if (!kty) throw new InvalidArgument(`--kty must be one of ${HSM_KEY_TYPES.join(', ')}`, { flag: 'kty' });
  return kty;
}

/** Key Vault object names: 1-127 letters, digits and dashes. */
export function parseKeyName(value: string | undefined): string {
  if (value === undefined || !/^[0-9A-Za-z-]{1,127}$/.test(value)) throw new InvalidArgument('--name must be 1-127 letters, digits or dashes', { flag: 'name' });
  return value;
}

export function parseKeyOps(value: string | undefined): KeyOperation[] | undefined {
  if (value === undefined) return undefined;
  const ops = value.split(',').map((op) => op.trim());
  const bad = ops.find((op) => !OPERATIONS.includes(op));
  if (bad !== undefined) throw new InvalidArgument(`--ops: "${bad}" is not one of ${OPERATIONS.join(', ')}`, { flag: 'ops' });
  return ops as KeyOperation[];
}

/** Size (RSA bits, oct bits) or curve (EC) for a new key, with the usual defaults. */
export function keyShape(kty: HsmKeyType, size: string | undefined, curve: string | undefined): Pick<CreateKeyOptions, 'keySize' | 'curve'> {
  if (kty === 'EC-HSM') {
    if (size !== undefined) throw new InvalidArgument('--size is for RSA-HSM and oct-HSM; EC-HSM takes --curve', { flag: 'size' });
    if (curve !== undefined && !CURVES.includes(curve)) throw new InvalidArgument(`--curve must be one of ${CURVES.join(', ')}`, { flag: 'curve' });
    return { curve: (curve ?? 'P-256') as KeyCurveName };
  }
  if (curve !== undefined) throw new InvalidArgument('--curve is for EC-HSM', { flag: 'curve' });
  const { allowed, default: fallback } = SIZES[kty];
  const keySize = size === undefined ? fallback : Number(size);
  if (!allowed.includes(keySize)) throw new InvalidArgument(`--size for ${kty} must be one of ${allowed.join(', ')}`, { flag: 'size' });
  return { keySize };
}
