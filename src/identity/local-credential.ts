import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { InvalidArgument } from '../errors';
import { issueFor, type IdentityContext } from './grant';
import type { Principal } from './principals';

/**
 * A TokenCredential that signs tokens for one principal inside the process that runs the
 * endpoint, for the services started beside it (the embedded stack's demo-key setup). It goes
 * through no route, so it is handed only to code the operator runs; other processes use the
 * App Service route with the identity header.
 */
export function localCredential(ctx: IdentityContext, principal: Principal): TokenCredential {
  return {
    async getToken(scopes: string | string[]): Promise<AccessToken> {
      const list = typeof scopes === 'string' ? [scopes] : scopes;
      if (list.length !== 1) throw new InvalidArgument('a managed-identity token is for exactly one scope');
      const granted = await issueFor(ctx, principal, list[0]!);
      return { token: granted.access_token, expiresOnTimestamp: Number(granted.expires_on) * 1000, tokenType: 'Bearer' };
    },
  };
}
