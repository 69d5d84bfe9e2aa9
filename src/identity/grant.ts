import { PrincipalNeedsIdentityHeader } from '../errors';
import type { SigningKeyRing } from '../oidc';
import { selectPrincipal, type Principal, type PrincipalDirectory, type PrincipalSelector } from './principals';
import { audienceFor, issueAccessToken, type TokenResponse } from './token';

/** Everything the endpoint's operations depend on; built once by `startIdentity`. */
export interface IdentityContext {
  /** The tokens' `iss`, which names no URL (see issuerFor). */
  issuer: string;
  /** Where this endpoint listens: what discovery points at. */
  url: string;
  principals: PrincipalDirectory;
  keys: SigningKeyRing;
  allowedResources: string[];
  tokenLifetimeSeconds: number;
  /** The App Service `X-IDENTITY-HEADER` secret. */
  identityHeader: string;
  now: () => Date;
}

export interface TokenRequest {
  resource: string;
  selector: PrincipalSelector;
}

/**
 * How the caller reached the endpoint. The IMDS route asks only `Metadata: true`, which any
 * local process can send, so it serves the default and named principals but never the
 * officer; the App Service route has proven the identity header (a 0600 file only the
 * operator reads), and a request naming no identity there gets the officer.
 */
export type TokenRoute = 'imds' | 'app-service';

function principalFor(ctx: IdentityContext, request: TokenRequest, route: TokenRoute): Principal {
  const { principals } = ctx;
  if (route === 'app-service') return selectPrincipal(principals, request.selector, principals.officer);
  const principal = selectPrincipal(principals, request.selector, principals.defaultPrincipal);
  if (principal === principals.officer) throw new PrincipalNeedsIdentityHeader();
  return principal;
}

/** Signs a token for `principal` and the audience `resource` maps to. */
export async function issueFor(ctx: IdentityContext, principal: Principal, resource: string): Promise<TokenResponse> {
  const audience = audienceFor(resource, ctx.allowedResources);
  return issueAccessToken(principal, resource, audience, ctx.keys.current(), {
    issuer: ctx.issuer,
    tenantId: ctx.principals.tenantId,
    lifetimeSeconds: ctx.tokenLifetimeSeconds,
    now: ctx.now(),
  });
}

/** Resolves the principal the route allows, then signs; the same for every endpoint shape. */
export async function grantToken(ctx: IdentityContext, request: TokenRequest, route: TokenRoute): Promise<TokenResponse> {
  return issueFor(ctx, principalFor(ctx, request, route), request.resource);
}
