import type { TokenCredential } from '@azure/identity';
import { DefaultAzureCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { isLoopback, normaliseEndpoint } from '../../lib/endpoint';
import { outboundTrust } from '../../tls/trust';

/**
 * A KeyClient for real Key Vault / Managed HSM or a local `skr kms`. The same code path serves
 * both: a loopback vault only relaxes the challenge-resource check (its WWW-Authenticate names
 * vault.azure.net, not localhost) and, when it speaks plain http, the SDK's https requirement.
 * TLS trust: the root store, NODE_EXTRA_CA_CERTS and `ca` (the --ca-file certificates), see tls/trust.
 */
export function keyClientFor(vault: string, credential: TokenCredential = new DefaultAzureCredential(), ca: readonly string[] = []): KeyClient {
  const origin = normaliseEndpoint(vault, 'vault');
  const url = new URL(origin);
  const loopback = isLoopback(url.hostname);
  return new KeyClient(origin, credential, {
    disableChallengeResourceVerification: loopback,
    allowInsecureConnection: loopback && url.protocol === 'http:',
    ...(ca.length ? { tlsOptions: { ca: [...outboundTrust(ca).ca] } } : {}),
  });
}
