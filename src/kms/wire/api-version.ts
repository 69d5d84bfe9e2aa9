/**
 * Every Key Vault data-plane api-version published in the REST specifications
 * (Azure/azure-rest-api-specs, specification/keyvault/data-plane/Microsoft.KeyVault/: the
 * folder names under stable/ and preview/, a preview's version as its swagger `info.version`
 * states it). Published SDKs send one of these, previews included: older
 * @azure/keyvault-keys releases default to 7.4-preview.1. Requests are answered with this
 * KMS's one surface whichever version is named; a version outside the list is refused
 * (every route's query schema, src/kms/wire/schemas.ts).
 */
const STABLE = ['2015-06-01', '2016-10-01', '7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-06-01', '2025-07-01'];
const PREVIEW = [
  '7.0-preview',
  '7.1-preview',
  '7.2-preview',
  '7.3-preview',
  '7.4-preview.1',
  '7.5-preview.1',
  '7.6-preview.1',
  '7.6-preview.2',
  '2025-06-01-preview',
  '2025-07-01-preview',
  '2026-01-01-preview',
];
export const API_VERSIONS: readonly string[] = [...STABLE, ...PREVIEW];
