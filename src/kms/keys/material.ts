import type { KeyFamily, KeyMaterial } from '../model';

/** The bytes sealed at rest for a key: exactly its release encoding. */
export function materialBytes(material: KeyMaterial): Buffer {
  return material.kind === 'oct' ? material.raw : material.pkcs8;
}

export function materialFromBytes(family: KeyFamily, bytes: Buffer): KeyMaterial {
  return family === 'oct' ? { kind: 'oct', raw: bytes } : { kind: family, pkcs8: bytes };
}
