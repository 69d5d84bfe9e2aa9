import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { InvalidArgument } from '../errors';
import { loadOrCreateSecret } from '../lib/state-file';
import { SigningKeyRing } from '../maa/service/signing-keys';
import { APP_SERVICE_TOKEN_PATH, createIdentityApp } from './app';
import type { IdentityContext } from './grant';
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
  /** The App Service `IDENTITY_HEADER` secret; generated once and kept in the state directory when absent. */
  identityHeader?: string;
  now?: () => Date;
}

export interface RunningIdentity {
  /** Base URL (no path): the value for `AZURE_POD_IDENTITY_AUTHORITY_HOST`. */
  url: string;
  /** The `iss` of every token; OpenID discovery lives under it. */
  issuer: string;
  tenantId: string;
  defaultPrincipal: { objectId: string; clientId: string };
  /** `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` for App Service-style clients. */
  appService: { endpoint: string; header: string };
  context: IdentityContext;
  close(): Promise<void>;
}

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
/** Entra's access tokens live at most a day; a longer one would outlive any revocation. */
const MAX_TOKEN_LIFETIME_SECONDS = 86_400;

/** Starts the plain-HTTP identity endpoint; state (signing key, default principal, secret) lives in `<stateDir>/identity/`. */
export async function startIdentity(options: IdentityOptions): Promise<RunningIdentity> {
  const lifetime = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime < 60 || lifetime > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new InvalidArgument(`tokenLifetimeSeconds must be an integer from 60 to ${MAX_TOKEN_LIFETIME_SECONDS}`, { field: 'tokenLifetimeSeconds' });
  }
  const dir = join(options.stateDir, 'identity');
  const principals = await loadPrincipals(dir, options.principals);
  const identityHeader = options.identityHeader ?? (await loadOrCreateSecret(join(dir, 'identity-header')));
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

  const context: IdentityContext = {
    issuer: url,
    principals,
    keys: await SigningKeyRing.open(join(dir, 'signing-keys.json'), url, now().getTime()),
    allowedResources: options.allowedResources ?? DEFAULT_RESOURCES,
    tokenLifetimeSeconds: lifetime,
    identityHeader,
    now,
  };
  server.on('request', createIdentityApp(context));

  return {
    url,
    issuer: url,
    tenantId: principals.tenantId,
    defaultPrincipal: { objectId: principals.defaultPrincipal.objectId, clientId: principals.defaultPrincipal.clientId },
    appService: { endpoint: `${url}${APP_SERVICE_TOKEN_PATH}`, header: identityHeader },
    context,
    close: () => closeServer(),
  };
}
