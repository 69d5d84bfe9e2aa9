import { KmsBadParameter } from '../../errors';
import type { KeyFamily } from '../model';

export const KEY_OPERATIONS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey', 'import', 'export'] as const;

/** What a key may do when its creator names no key_ops (Key Vault's defaults per family). */
export const DEFAULT_KEY_OPS: Record<KeyFamily, string[]> = {
  RSA: ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'],
  EC: ['sign', 'verify'],
  oct: ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
};

export function parseKeyOps(value: unknown, family: KeyFamily): string[] {
  if (value === undefined || value === null) return DEFAULT_KEY_OPS[family];
  if (!Array.isArray(value) || value.some((op) => typeof op !== 'string' || !(KEY_OPERATIONS as readonly string[]).includes(op))) {
    throw new KmsBadParameter(`key_ops must be an array of ${KEY_OPERATIONS.join(', ')}`);
  }
  return [...new Set(value as string[])];
}
