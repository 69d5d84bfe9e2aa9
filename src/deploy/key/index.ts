/** Creating and importing release-policy keys in Key Vault / Managed HSM (or `skr kms`) through the Azure SDK. */
export { keyClientFor } from './client';
export { importMaterial } from './import-material';
export { keyShape, parseKeyName, parseKeyOps, parseKeyType } from './key-spec';
export { vaultError } from './vault-error';
