/**
 * Key Vault's release wrapping (CKM_RSA_AES_KEY_WRAP, RSA_AES_KEY_WRAP_256/_384), shared by the
 * KMS, which wraps, and the sidecar, which unwraps inside the TEE.
 */
export { KEY_WRAP_ALGORITHMS, DEFAULT_KEY_WRAP, isKeyWrapAlgorithm, type KeyWrapAlgorithm } from './algorithms';
export { wrapKeyMaterial, MIN_WRAPPING_KEY_BITS, type WrapKeyMaterialInput } from './wrap';
export { unwrapKeyMaterial, type UnwrapKeyMaterialInput } from './unwrap';
export { encodeKeyMaterial, materialToJwk, type ReleasableKeyType } from './material';
export { encodeKeyHsm, decodeKeyHsm, KEY_HSM_SCHEMA_VERSION, type KeyHsm } from './key-hsm';
export type { RsaKeyInput } from './rsa';
