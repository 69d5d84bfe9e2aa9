import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { KeyClient, type KeyClientOptions as SdkClientOptions } from '@azure/keyvault-keys';
import { UpstreamTimedOut } from '../errors';
import { isLoopback } from '../lib/endpoint';
import { outboundTrust } from '../tls/trust';

/**
 * One KeyClient per key service, built with the sidecar's credential; a caller's own
 * `access_token` gets a client of its own that is not kept. Loopback key services (the
 * embedded KMS) skip the SDK's resource check, which demands a *.vault.azure.net host.
 */
export interface KeyClientOptions {
  credential: TokenCredential;
  /** CA certificates (PEM) trusted for the key service's HTTPS besides the roots and NODE_EXTRA_CA_CERTS. */
  ca?: string[];
  maxRetries: number;
}

interface SharedClient {
  client: KeyClient;
  /** Settles when the client's first call has: until then the client is not shared. */
  firstCall: Promise<void>;
}

type TlsSettings = NonNullable<SdkClientOptions['tlsOptions']>;

export class KeyClients {
  private readonly clients = new Map<string, SharedClient>();

  private readonly credential: TokenCredential;

  /**
   * One object for every client: the SDK keeps one agent per settings object. Only the prebuilt
   * secureContext, never `ca`: Node's https agent names its socket pool by concatenating the `ca`
   * list on every request, which over ~150 roots cost a third of the sidecar's CPU at load.
   */
  private readonly tlsOptions: TlsSettings;

  constructor(private readonly options: KeyClientOptions) {
    this.credential = boundedCredential(options.credential);
    const trust = outboundTrust(options.ca);
    // secureContext is passed through to tls.connect; the SDK's settings type does not name it.
    this.tlsOptions = { secureContext: trust.secureContext } as TlsSettings;
  }

  /**
   * Runs `call` with the client for `origin`. A client's first call goes alone: the SDK's
   * challenge policy sends that call's body only after a 401, and loses it when a concurrent
   * call completes the challenge first (the key service then sees a release without a target).
   */
  async use<T>(origin: string, accessToken: string | undefined, call: (client: KeyClient) => Promise<T>): Promise<T> {
    if (accessToken !== undefined) return call(this.create(origin, callerCredential(accessToken)));
    const shared = this.clients.get(origin);
    if (shared) {
      await shared.firstCall;
      return call(shared.client);
    }
    const client = this.create(origin, this.credential);
    const first = call(client);
    this.clients.set(origin, {
      client,
      firstCall: first.then(
        () => undefined,
        () => undefined,
      ),
    });
    return first;
  }

  private create(origin: string, credential: TokenCredential): KeyClient {
    const loopback = isLoopback(new URL(origin).hostname);
    return new KeyClient(origin, credential, {
      disableChallengeResourceVerification: loopback,
      // Plain http passes the endpoint check only on loopback (a KMS beside the sidecar).
      allowInsecureConnection: loopback && origin.startsWith('http:'),
      retryOptions: { maxRetries: this.options.maxRetries },
      tlsOptions: this.tlsOptions,
    });
  }
}

/**
 * The credential, its token bounded by the release's deadline. ManagedIdentityCredential hands
 * the request to MSAL without the abort signal the Key Vault SDK passes it, so an identity
 * endpoint that does not answer would hold a release past --timeout-ms (and be blamed on the key
 * service once the token came): the release ends at its deadline as the identity's timeout.
 * The token request itself cannot be cancelled; a late token is still cached by MSAL.
 */
export function boundedCredential(inner: TokenCredential): TokenCredential {
  return {
    getToken: (scopes: string | string[], options?: GetTokenOptions) => {
      const signal = options?.abortSignal;
      // The Key Vault SDK's background refresh retries with the signal of the release that
      // started it, long aborted: that call serves no waiting release, so it is not bounded.
      if (!signal || signal.aborted) return inner.getToken(scopes, { ...options, abortSignal: undefined });
      return new Promise<AccessToken | null>((resolve, reject) => {
        const onAbort = () => reject(new UpstreamTimedOut('identity', 'the identity endpoint did not answer in time'));
        signal.addEventListener('abort', onAbort, { once: true });
        inner
          .getToken(scopes, options)
          .then(resolve, reject)
          .finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
  };
}

/** The caller's bearer token, used as given (Microsoft's sidecar's `access_token`). */
function callerCredential(token: string): TokenCredential {
  return {
    getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 5 * 60_000 }),
  };
}
