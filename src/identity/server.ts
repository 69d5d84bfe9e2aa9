import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { InvalidArgument } from '../errors';
import { loadOrCreateSecret } from '../lib/state-file';
import { SigningKeyRing, type KeyRingIssuer } from '../oidc';
import { createIdentityApp } from './app';
import { APP_SERVICE_TOKEN_PATH } from './routes';
import type { IdentityContext } from './grant';
import { issuerFor } from './issuer';
import { localCredential } from './local-credential';
import { loadPrincipals, type PrincipalConfig } from './principals';
import { DEFAULT_RESOURCES } from './token';
import { gracefulCloser } from '../lib/graceful-close';

export interface IdentityOptions {
  stateDir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Loopback by default: like IMDS, the endpoint hands out tokens to whoever can reach it. */
  host?: string;
  /** User-assigned identities besides the default one. */
  principals?: PrincipalConfig[];
  tokenLifetimeSeconds?: number;
  /** Resources tokens are issued for; Key Vault, Managed HSM and Azure Attestation by default. */
  allowedResources?: string[];
  now?: () => Date;
}

export interface RunningIdentity {
  /** Base URL (no path): the value for `AZURE_POD_IDENTITY_AUTHORITY_HOST`. */
  url: string;
  /** The `iss` of every token: the same for every endpoint started with this state directory (OpenID discovery lives under `url`). */
  issuer: string;
  /** What a relying party in this process checks the tokens with: the issuer and its key ring, shared through the state directory. */
  verification: KeyRingIssuer;
  tenantId: string;
  defaultPrincipal: { objectId: string; clientId: string };
  /** The principal that holds Crypto Officer; its tokens come only from the App Service route. */
  officerPrincipal: { objectId: string; clientId: string };
  /** `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` for App Service-style clients. */
  appService: { endpoint: string; header: string };
  /** What endpoints.json publishes: `IDENTITY_ENDPOINT`, and the absolute path of the 0600 file holding `IDENTITY_HEADER`. */
  officer: { endpoint: string; headerFile: string };
  /** Officer tokens signed in this process, for the services the operator starts beside the endpoint. */
  officerCredential: TokenCredential;
  context: IdentityContext;
  close(): Promise<void>;
}

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
/** Entra's access tokens live at most a day; a longer one would outlive any revocation. */
const MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/**
 * Starts the plain-HTTP identity endpoint; state (signing key, principals, the identity header)
 * lives in `<stateDir>/identity/`. The header file is the officer's credential: created 0600 by
 * the service's user, it is what separates the operator from any other local process.
 */
export async function startIdentity(options: IdentityOptions): Promise<RunningIdentity> {
  const lifetime = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime < 60 || lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new InvalidArgument(`tokenLifetimeSeconds must be an integer from 60 to ${MAX_TOKEN_LIFETIME_SECONDS}`, { field: 'tokenLifetimeSeconds' });
  }
  const dir = resolve(options.stateDir, 'identity');
  const principals = await loadPrincipals(dir, options.principals);
  const headerFile = join(dir, 'identity-header');
  const identityHeader = await loadOrCreateSecret(headerFile);
  const now = options.now ?? (() => new Date());

  const server = http.createServer();
  const closeServer = gracefulCloser(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  // A wildcard bind is reached (and its tokens' issuer named) through loopback.
  const reachable = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  const url = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;

  const issuer = issuerFor(principals.tenantId);
  const context: IdentityContext = {
    issuer,
    url,
    principals,
    keys: await SigningKeyRing.open(join(dir, 'signing-keys.json'), issuer, now().getTime()),
    allowedResources: options.allowedResources ?? DEFAULT_RESOURCES,
    tokenLifetimeSeconds: lifetime,
    identityHeader,
    now,
  };
  server.on('request', createIdentityApp(context));

  return {
    url,
    issuer,
    verification: { issuer, ring: context.keys, tokenLifetimeMs: lifetime * 1000 },
    tenantId: principals.tenantId,
    defaultPrincipal: { objectId: principals.defaultPrincipal.objectId, clientId: principals.defaultPrincipal.clientId },
    officerPrincipal: { objectId: principals.officer.objectId, clientId: principals.officer.clientId },
    appService: { endpoint: `${url}${APP_SERVICE_TOKEN_PATH}`, header: identityHeader },
    officer: { endpoint: `${url}${APP_SERVICE_TOKEN_PATH}`, headerFile },
    officerCredential: localCredential(context, principals.officer),
    context,
    close: () => closeServer(),
  };
}
