// Generic OIDC/JWS pieces shared by the roles that sign or check tokens: the verifier and the
// identity endpoint sign with a SigningKeyRing; the KMS, the sidecar and the MAA client check
// tokens with a TokenVerifier. Nothing here knows about SEV-SNP or Key Vault.
export { RING_REREAD_INTERVAL_MS, SigningKeyRing, toJwk, type Jwk, type SigningKey } from './signing-keys';
export { CLOCK_SKEW_SECONDS, REFETCH_INTERVAL_MS, TokenVerifier, trimSlash, type KeyRingIssuer, type TokenAlgorithm, type TokenVerifierOptions } from './token-verifier';
