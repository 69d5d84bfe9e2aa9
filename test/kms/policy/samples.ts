/** Release policies in the shapes Microsoft publishes for Key Vault secure key release and its sidecar's samples, and tokens shaped like MAA's. */

export const HOSTDATA = '73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20';

/** The sidecar's importkey policy for an ACI confidential container. */
export const SNP_CONTAINER_POLICY = {
  version: '1.0.0',
  anyOf: [
    {
      authority: 'https://sharedeus2.eus2.attest.azure.net',
      allOf: [
        { claim: 'x-ms-sevsnpvm-hostdata', equals: HOSTDATA },
        { claim: 'x-ms-compliance-status', equals: 'azure-compliant-uvm' },
        { claim: 'x-ms-sevsnpvm-is-debuggable', equals: 'false' },
        { claim: 'x-ms-sevsnpvm-vmpl', equals: '0' },
      ],
    },
  ],
};

/** Microsoft's setup-key-mhsm.sh: version 0.2, attestation type only. */
export const MHSM_SETUP_POLICY = {
  version: '0.2',
  anyOf: [{ authority: 'https://sharedeus2.eus2.attest.azure.net', allOf: [{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }],
};

/** A CVM data-disk policy: two MAA instances (one spelled with a trailing slash), anyOf nested in allOf, claims under x-ms-isolation-tee. */
export const CVM_POLICY = {
  version: '1.0.0',
  anyOf: [
    {
      authority: 'https://sharedeus.eus.attest.azure.net/',
      allOf: [
        { claim: 'x-ms-isolation-tee.x-ms-attestation-type', equals: 'sevsnpvm' },
        { claim: 'x-ms-isolation-tee.x-ms-compliance-status', equals: 'azure-compliant-cvm' },
        {
          anyOf: [
            { claim: 'x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable', equals: false },
            { claim: 'x-ms-isolation-tee.x-ms-sevsnpvm-is-debuggable', equals: 'false' },
          ],
        },
      ],
    },
    {
      authority: 'https://sharedscus.scus.attest.azure.net',
      allOf: [
        { claim: 'x-ms-isolation-tee.x-ms-attestation-type', equals: 'sevsnpvm' },
        { claim: 'x-ms-isolation-tee.x-ms-compliance-status', equals: 'azure-compliant-cvm' },
      ],
    },
  ],
};

/** The Azure SDK live tests: a boolean claim against a string. */
export const SDK_TEST_POLICY = { version: '1.0.0', anyOf: [{ authority: 'https://skr-attest.example/', allOf: [{ claim: 'sdk-test', equals: 'true' }] }] };

/** The preview form of the REST spec's release-example.json: condition/value, no version. */
export const LEGACY_POLICY = {
  anyOf: [{ allOf: [{ claim: 'x-ms-sevsnpvm-vmpl', condition: 'equals', value: 0 }], authority: 'https://sharedeus2.eus2.attest.azure.net' }],
};

/** The claims of an MAA SevSnpVm token for the container above. */
export const SNP_CLAIMS = {
  iss: 'https://sharedeus2.eus2.attest.azure.net',
  'x-ms-attestation-type': 'sevsnpvm',
  'x-ms-compliance-status': 'azure-compliant-uvm',
  'x-ms-sevsnpvm-hostdata': HOSTDATA,
  'x-ms-sevsnpvm-is-debuggable': false,
  'x-ms-sevsnpvm-vmpl': 0,
  'x-ms-runtime': { keys: [{ kty: 'RSA', kid: 'k1', key_ops: ['encrypt'], e: 'AQAB', n: 'x'.repeat(342) }] },
};

/** A CVM guest-attestation token: the TEE claims nested under x-ms-isolation-tee. */
export const CVM_CLAIMS = {
  iss: 'https://sharedeus.eus.attest.azure.net',
  'x-ms-attestation-type': 'azurevm',
  'x-ms-isolation-tee': {
    'x-ms-attestation-type': 'sevsnpvm',
    'x-ms-compliance-status': 'azure-compliant-cvm',
    'x-ms-sevsnpvm-is-debuggable': false,
  },
};
