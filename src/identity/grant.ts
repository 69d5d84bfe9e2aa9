import type { SigningKeyRing } from '../maa/service/signing-keys';
import { selectPrincipal, type PrincipalDirectory, type PrincipalSelector } from './principals';
import { audienceFor, issueAccessToken, type TokenResponse } from './token';

/** Everything the endpoint's operations depend on; built once by `startIdentity`. */
export interface IdentityContext {
  issuer: string;
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

/** Resolves the principal and the audience, then signs; the same for every endpoint shape. */
export async function grantToken(ctx: IdentityContext, request: TokenRequest): Promise<TokenResponse> {
  const audience = audienceFor(request.resource, ctx.allowedResources);
  const principal = selectPrincipal(ctx.principals, request.selector);
  return issueAccessToken(principal, request.resource, audience, ctx.keys.current(), {
    issuer: ctx.issuer,
    tenantId: ctx.principals.tenantId,
    lifetimeSeconds: ctx.tokenLifetimeSeconds,
    now: ctx.now(),
  });
}
