import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { KeyClient } from '@azure/keyvault-keys';
import { isLoopback } from '../lib/endpoint';

/**
 * One KeyClient per key service, built with the sidecar's credential; a caller's own
 * `access_token` gets a client of its own that is not kept. Loopback key services (the
 * embedded KMS) skip the SDK's resource check, which demands a *.vault.azure.net host.
 */
export interface KeyClientOptions {
  credential: TokenCredential;
  /** Extra trusted CA certificates (PEM) for the key service's HTTPS. */
  ca?: string[];
  maxRetries: number;
}

export class KeyClients {
  private readonly clients = new Map<string, KeyClient>();

  constructor(private readonly options: KeyClientOptions) {}

  get(origin: string, accessToken?: string): KeyClient {
    if (accessToken !== undefined) return this.create(origin, callerCredential(accessToken));
    let client = this.clients.get(origin);
    if (!client) {
      client = this.create(origin, this.options.credential);
      this.clients.set(origin, client);
    }
    return client;
  }

  private create(origin: string, credential: TokenCredential): KeyClient {
    const loopback = isLoopback(new URL(origin).hostname);
    return new KeyClient(origin, credential, {
      disableChallengeResourceVerification: loopback,
      // Plain http passes the endpoint check only on loopback (a KMS beside the sidecar).
      allowInsecureConnection: loopback && origin.startsWith('http:'),
      retryOptions: { maxRetries: this.options.maxRetries },
      ...(this.options.ca?.length ? { tlsOptions: { ca: this.options.ca.join('\n') } } : {}),
    });
  }
}

/** The caller's bearer token, used as given (Microsoft's sidecar's `access_token`). */
function callerCredential(token: string): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 5 * 60_000 }),
  };
}
