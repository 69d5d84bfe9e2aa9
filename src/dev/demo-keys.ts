import type { TokenCredential } from '@azure/core-auth';
import { KeyClient } from '@azure/keyvault-keys';

/**
 * The two keys `npm start` ensures on every start, so the demo always matches the running
 * stack: `demo` (oct-HSM 256, exportable) released only to the virtual TEE of this state —
 * its host_data, its virtual ARK (which no real report chains to), the verifier's current
 * authority, an endorsed UVM, no debug, VMPL 0 — and `demo-denied`, identical but for a
 * host_data the virtual device never produces.
 */
export interface DemoKeyInputs {
  kmsUrl: string;
  verifierIssuer: string;
  hostData: string;
  /** SHA-256 of this state's virtual ARK: the verifier's `x-skr-sevsnpvm-ark-sha256`. */
  arkSha256: string;
  credential: TokenCredential;
  caPem: string;
}

export const DEMO_KEY = 'demo';
export const DEMO_DENIED_KEY = 'demo-denied';

export function demoPolicy(authority: string, hostData: string, arkSha256: string): Record<string, unknown> {
  return {
    version: '1.0.0',
    anyOf: [
      {
        authority,
        allOf: [
          { claim: 'x-ms-sevsnpvm-hostdata', equals: hostData },
          { claim: 'x-skr-sevsnpvm-ark-sha256', equals: arkSha256 },
          { claim: 'x-ms-compliance-status', equals: 'azure-compliant-uvm' },
          { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false },
          { claim: 'x-ms-sevsnpvm-vmpl', equals: 0 },
        ],
      },
    ],
  };
}

/** A host_data no virtual device of skr produces (its state picks random ones). */
const NEVER = 'ff'.repeat(32);

export async function ensureDemoKeys(inputs: DemoKeyInputs): Promise<void> {
  const client = new KeyClient(inputs.kmsUrl, inputs.credential, {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: inputs.caPem },
  });
  for (const [name, hostData] of [
    [DEMO_KEY, inputs.hostData],
    [DEMO_DENIED_KEY, inputs.hostData === NEVER ? '00'.repeat(32) : NEVER],
  ] as const) {
    const encodedPolicy = Buffer.from(JSON.stringify(demoPolicy(inputs.verifierIssuer, hostData, inputs.arkSha256)));
    const releasePolicy = { encodedPolicy, contentType: 'application/json; charset=utf-8' };
    const exists = await client.getKey(name).then(
      () => true,
      (error: { statusCode?: number }) => {
        if (error.statusCode === 404) return false;
        throw error;
      },
    );
    if (exists) await client.updateKeyProperties(name, { releasePolicy });
    else await client.createOctKey(name, { hsm: true, keySize: 256, exportable: true, releasePolicy });
  }
}
