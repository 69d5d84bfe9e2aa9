/** Key Vault curve names and the OpenSSL names node:crypto uses for them. */
export const CURVES = {
  'P-256': { openssl: 'prime256v1', jwk: 'P-256', digestBytes: 32, sign: 'ES256' },
  'P-384': { openssl: 'secp384r1', jwk: 'P-384', digestBytes: 48, sign: 'ES384' },
  'P-521': { openssl: 'secp521r1', jwk: 'P-521', digestBytes: 64, sign: 'ES512' },
  'P-256K': { openssl: 'secp256k1', jwk: 'secp256k1', digestBytes: 32, sign: 'ES256K' },
} as const;

export type CurveName = keyof typeof CURVES;

export function isCurveName(value: unknown): value is CurveName {
  return typeof value === 'string' && Object.hasOwn(CURVES, value);
}

/** Key Vault's name for the curve node:crypto reports in a JWK (`secp256k1` is Key Vault's `P-256K`). */
export function curveFromJwk(crv: string): CurveName | undefined {
  return (Object.keys(CURVES) as CurveName[]).find((name) => CURVES[name].jwk === crv);
}
