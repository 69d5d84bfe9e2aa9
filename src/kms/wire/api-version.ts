import { KmsBadParameter } from '../../errors';

/** The Key Vault API versions whose keys surface this KMS speaks (the JS SDK sends 2025-07-01). */
export const API_VERSIONS = ['7.3', '7.4', '7.5', '7.6-preview.2', '7.6', '2025-07-01'];

/** `value` is the decoded query parameter: the SDK sends `api%2Dversion`, which Express decodes. */
export function checkApiVersion(value: unknown): string {
  if (typeof value !== 'string' || !value) throw new KmsBadParameter("The 'api-version' query parameter is missing");
  if (!API_VERSIONS.includes(value)) {
    throw new KmsBadParameter(`The specified version (${value}) is not recognized. Consider using one of ${API_VERSIONS.join(', ')}`, { supported: API_VERSIONS });
  }
  return value;
}
