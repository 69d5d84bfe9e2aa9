import type { TokenCredential } from '@azure/core-auth';
import { SecretClient } from '@azure/keyvault-secrets';
import { parseResourcePath, SecretsBackend, type KeyBroker } from '../kbs';

/**
 * The KBS side of `npm start`: resources live in the KMS's secrets (the KBS reads them through
 * `@azure/keyvault-secrets`, as it would Azure Key Vault), and two demo resources are ensured on
 * every start, so the demo always matches the running stack: `default/demo/secret`, released
 * only to the virtual TEE of this state (the KBS's own tokens, this state's host_data and
 * virtual ARK, no debug, VMPL 0 — what the `demo` key's release policy binds), and
 * `default/demo/denied`, identical but for a host_data the virtual device never produces.
 */
export const DEMO_RESOURCE = 'default/demo/secret';
export const DEMO_DENIED_RESOURCE = 'default/demo/denied';
/** The principal the seeding is audited under. */
const SEEDER = 'skr dev';
/** The verifier's claims inside the KBS's EAR token (src/kbs/token.ts). */
const SNP_CLAIMS = 'submods.cpu0.ear.veraison.annotated-evidence.snp';
/** A host_data no virtual device of skr produces (its state picks random ones). */
const NEVER = 'ff'.repeat(32);

/** The KMS's secrets as the KBS's resource backend, reached over HTTPS under the dev CA. */
export function kmsSecretsBackend(kmsUrl: string, credential: TokenCredential, caPem: string): SecretsBackend {
  return new SecretsBackend(new SecretClient(kmsUrl, credential, { disableChallengeResourceVerification: true, tlsOptions: { ca: caPem } }));
}

export function demoResourcePolicy(kbsIssuer: string, hostData: string, arkSha256: string): Record<string, unknown> {
  return {
    version: '1.0.0',
    anyOf: [
      {
        authority: kbsIssuer,
        allOf: [
          { claim: `${SNP_CLAIMS}.x-ms-sevsnpvm-hostdata`, equals: hostData },
          { claim: `${SNP_CLAIMS}.x-skr-sevsnpvm-ark-sha256`, equals: arkSha256 },
          { claim: `${SNP_CLAIMS}.x-ms-sevsnpvm-is-debuggable`, equals: false },
          { claim: `${SNP_CLAIMS}.x-ms-sevsnpvm-vmpl`, equals: 0 },
        ],
      },
    ],
  };
}

export interface DemoResourceInputs {
  broker: KeyBroker;
  kbsIssuer: string;
  hostData: string;
  arkSha256: string;
}

export async function ensureDemoResources(inputs: DemoResourceInputs): Promise<void> {
  const { broker } = inputs;
  for (const [path, hostData, bytes] of [
    [DEMO_RESOURCE, inputs.hostData, 'skr dev demo resource: released to the virtual TEE\n'],
    [DEMO_DENIED_RESOURCE, inputs.hostData === NEVER ? '00'.repeat(32) : NEVER, 'skr dev demo resource: never released\n'],
  ] as const) {
    await broker.setResource(parseResourcePath(path.split('/')), Buffer.from(bytes), SEEDER);
    await broker.setPolicy(path, demoResourcePolicy(inputs.kbsIssuer, hostData, inputs.arkSha256), SEEDER);
  }
}
