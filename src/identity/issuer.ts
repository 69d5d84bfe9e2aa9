/**
 * The `iss` of the endpoint's tokens, named after the tenant kept in the state directory rather
 * than the URL the endpoint listens on: every replica started with one state directory issues
 * tokens under one name and signs them with one key ring (the same file), so each accepts the
 * others' tokens, and a token of another state directory's identity names another issuer. The
 * host is under the reserved `.invalid` top-level domain: never resolved, never a real authority.
 * Relying parties check these tokens with the key ring (or the endpoint's JWKS), not discovery
 * under the issuer.
 */
export const issuerFor = (tenantId: string): string => `https://sts.skr.invalid/${tenantId}`;
