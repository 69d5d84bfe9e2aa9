import { Type } from '@sinclair/typebox';
import { route } from '../lib/route';

/**
 * The identity endpoint's routes, one schema each: IMDS's and App Service's token paths and the
 * OpenID documents relying parties verify the tokens with. They validate requests (app.ts) and
 * are its /openapi.json.
 */

export const IMDS_TOKEN_PATH = '/metadata/identity/oauth2/token';
export const APP_SERVICE_TOKEN_PATH = '/msi/token';

/** IMDS's (and Entra's) error shape; `error` carries our stable code. */
export const IdentityError = Type.Object({ error: Type.String({ pattern: '^[a-z0-9_]+$' }), error_description: Type.String() });

/** A query parameter given once and not empty (a repeated one arrives as an array and is refused). */
const Once = (description?: string) => Type.Optional(Type.String({ minLength: 1, ...(description ? { description } : {}) }));

/** The query both token paths share: the resource and at most one identity selector. */
const tokenQuery = {
  'api-version': Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }),
  resource: Type.String({ minLength: 1, description: 'the audience, on the allow-list' }),
  client_id: Once('selects a principal; at most one selector'),
  object_id: Once(),
  principal_id: Once(),
  msi_res_id: Once(),
  mi_res_id: Once(),
};

const Token = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.Literal(''),
  expires_in: Type.String(),
  expires_on: Type.String(),
  ext_expires_in: Type.String(),
  not_before: Type.String(),
  resource: Type.String(),
  token_type: Type.Literal('Bearer'),
  client_id: Type.String(),
});

export const IDENTITY_ROUTES = {
  imdsToken: route({
    method: 'get',
    path: IMDS_TOKEN_PATH,
    summary: 'IMDS token (header `Metadata: true`; api-version 2018-02-01 or later)',
    query: Type.Object(tokenQuery),
    responses: { 200: { description: 'Token', schema: Token } },
    errors: [400, 403],
  }),
  appServiceToken: route({
    method: 'get',
    path: APP_SERVICE_TOKEN_PATH,
    summary: 'App Service token (header `X-IDENTITY-HEADER`; api-version 2019-08-01)',
    query: Type.Object(tokenQuery),
    responses: { 200: { description: 'Token', schema: Token } },
    errors: [400, 401, 403],
  }),
  discovery: route({
    method: 'get',
    path: '/.well-known/openid-configuration',
    summary: 'OpenID discovery',
    responses: { 200: { description: 'Discovery document', schema: Type.Object({ issuer: Type.String(), jwks_uri: Type.String(), token_endpoint: Type.String() }) } },
    errors: [],
  }),
  keys: route({
    method: 'get',
    path: '/discovery/keys',
    summary: 'The token signing keys (JWKS)',
    responses: { 200: { description: 'JWKS', schema: Type.Object({ keys: Type.Array(Type.Object({ kty: Type.String(), kid: Type.String() })) }) } },
    errors: [],
  }),
  openapi: route({ method: 'get', path: '/openapi.json', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } }, errors: [405] }),
};
