import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { InternalError, InvalidRequest, MetadataHeaderRequired, SkrError, Unauthorized } from '../errors';
import { errorHandler, type ErrorEnvelope } from '../lib/http-errors';
import { openApiDocument } from '../lib/openapi';
import { mounter } from '../lib/route';
import { toJwk } from '../oidc';
import { grantToken, type IdentityContext, type TokenRequest } from './grant';
import type { PrincipalSelector } from './principals';
import { IDENTITY_ROUTES as R, IdentityError, IMDS_TOKEN_PATH } from './routes';

const APP_SERVICE_API_VERSION = '2019-08-01';
/** The oldest IMDS identity api-version, the one MSAL sends. */
const IMDS_MIN_API_VERSION = '2018-02-01';
const SELECTOR_KEYS: (keyof PrincipalSelector)[] = ['client_id', 'object_id', 'principal_id', 'msi_res_id', 'mi_res_id'];

/** IMDS's (and Entra's) error shape; `error` carries our stable code. */
function sendError(res: Response, error: unknown): void {
  const skr = error instanceof SkrError ? error : new InternalError();
  res.status(skr.status).set('Cache-Control', 'no-store').json({ error: skr.code, error_description: skr.message });
}

const IDENTITY_ERRORS: ErrorEnvelope = { send: sendError, invalid: (message, details) => new InvalidRequest(message, details) };

/** The identity endpoint's API as OpenAPI 3.1, served at /openapi.json. */
export const IDENTITY_OPENAPI = openApiDocument(
  { title: 'skr local managed-identity endpoint', version: '1.0.0', description: 'IMDS- and App Service-shaped token endpoints for the embedded stack.' },
  Object.values(R),
  IdentityError,
);

/** The resource and at most one identity selector, as the schema has already checked them. */
function tokenRequest(query: { resource: string } & PrincipalSelector): TokenRequest {
  const selector: PrincipalSelector = {};
  for (const key of SELECTOR_KEYS) selector[key] = query[key];
  return { resource: query.resource, selector };
}

/**
 * IMDS refuses any request that came through a proxy (it carries X-Forwarded-For), so a
 * server-side request forgery in a sibling's web proxy cannot fetch tokens; so do we.
 */
function refuseForwarded(req: Request, _res: Response, next: NextFunction): void {
  if (req.get('x-forwarded-for') !== undefined) return next(new InvalidRequest('requests through a proxy (X-Forwarded-For) are refused'));
  return next();
}

/** Every route here is GET (and so HEAD): any other method on one of their paths is 405. */
function methodNotAllowed(paths: string[]) {
  // Matched as Express matches routes: any case, one trailing slash allowed.
  const known = new Set(paths.map((p) => p.toLowerCase()));
  return (req: Request, res: Response, next: NextFunction): void => {
    const path = req.path.toLowerCase().replace(/(.)\/$/, '$1');
    if (req.method === 'GET' || req.method === 'HEAD' || !known.has(path)) return next();
    res.status(405).set('Allow', 'GET, HEAD').json({ error: 'method_not_allowed', error_description: 'only GET is supported' });
  };
}

/** IMDS checks the header before anything else: @azure/identity's availability probe relies on a header-less request being answered at once. */
function requireMetadataHeader(req: Request, _res: Response, next: NextFunction): void {
  if (req.get('metadata')?.toLowerCase() !== 'true') return next(new MetadataHeaderRequired());
  return next();
}

/** App Service's shared secret, checked before the query is read. */
function requireIdentityHeader(ctx: IdentityContext) {
  const expected = Buffer.from(ctx.identityHeader);
  return (req: Request, _res: Response, next: NextFunction): void => {
    const given = Buffer.from(req.get('x-identity-header') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return next(new Unauthorized('X-IDENTITY-HEADER is missing or wrong'));
    return next();
  };
}

/**
 * The local managed-identity endpoint: IMDS's token path, App Service's, and the OpenID
 * discovery document and JWKS a relying party verifies the tokens with. Any method but GET
 * (and HEAD) on them is 405.
 */
export function createIdentityApp(ctx: IdentityContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(methodNotAllowed(Object.values(R).map((r) => r.path)));
  const on = mounter(app, IDENTITY_ERRORS);

  // Express matches these with or without a trailing slash; MSAL sends IMDS's with one.
  on(
    R.imdsToken,
    async ({ query }, _req, res) => {
      if (query['api-version'] < IMDS_MIN_API_VERSION) throw new InvalidRequest(`api-version must be ${IMDS_MIN_API_VERSION} or later`, { field: 'api-version' });
      res.set('Cache-Control', 'no-store').json(await grantToken(ctx, tokenRequest(query), 'imds'));
    },
    refuseForwarded,
    requireMetadataHeader,
  );
  on(
    R.appServiceToken,
    async ({ query }, _req, res) => {
      if (query['api-version'] !== APP_SERVICE_API_VERSION) throw new InvalidRequest(`api-version must be ${APP_SERVICE_API_VERSION}`, { field: 'api-version' });
      res.set('Cache-Control', 'no-store').json(await grantToken(ctx, tokenRequest(query), 'app-service'));
    },
    refuseForwarded,
    requireIdentityHeader(ctx),
  );

  on(R.discovery, (_in, _req, res) => {
    res.json({
      issuer: ctx.issuer,
      jwks_uri: `${ctx.url}/discovery/keys`,
      token_endpoint: `${ctx.url}${IMDS_TOKEN_PATH}`,
      response_types_supported: ['token'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['aud', 'iss', 'iat', 'nbf', 'exp', 'jti', 'sub', 'oid', 'appid', 'appidacr', 'idtyp', 'tid', 'ver', 'xms_mirid'],
    });
  });

  on(R.keys, (_in, _req, res) => {
    res.json({ keys: ctx.keys.published(ctx.tokenLifetimeSeconds * 1000, ctx.now().getTime()).map(toJwk) });
  });

  on(R.openapi, (_in, _req, res) => {
    res.json(IDENTITY_OPENAPI);
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', error_description: 'no such endpoint' });
  });
  app.use(errorHandler(IDENTITY_ERRORS));
  return app;
}
