/** The local managed-identity endpoint (IMDS- and App Service-shaped) of the embedded stack. */
export { startIdentity, DEFAULT_TOKEN_LIFETIME_SECONDS, type IdentityOptions, type RunningIdentity } from './server';
export { createIdentityApp } from './app';
export { IMDS_TOKEN_PATH, APP_SERVICE_TOKEN_PATH } from './routes';
export type { IdentityContext } from './grant';
export type { PrincipalConfig, Principal } from './principals';
export { DEFAULT_RESOURCES } from './token';
