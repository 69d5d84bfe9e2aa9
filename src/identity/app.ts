import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { InternalError, InvalidRequest, MetadataHeaderRequired, SkrError, Unauthorized } from '../errors';
import { toJwk } from '../maa/service/signing-keys';
import { grantToken, type IdentityContext, type TokenRequest } from './grant';
import type { PrincipalSelector } from './principals';

export const IMDS_TOKEN_PATH = '/metadata/identity/oauth2/token';
export const APP_SERVICE_TOKEN_PATH = '/msi/token';
const APP_SERVICE_API_VERSION = '2019-08-01';
/** The oldest IMDS identity api-version, the one MSAL sends. */
const IMDS_MIN_API_VERSION = '2018-02-01';
const SELECTOR_KEYS: (keyof PrincipalSelector)[] = ['client_id', 'object_id', 'principal_id', 'msi_res_id', 'mi_res_id'];

/** IMDS's (and Entra's) error shape; `error` carries our stable code. */
function sendError(res: Response, error: unknown): void {
  const skr = error instanceof SkrError ? error : new InternalError();
  res.status(skr.status).set('Cache-Control', 'no-store').json({ error: skr.code, error_description: skr.message });
}

function queryString(req: Request, name: string): string | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new InvalidRequest(`query parameter ${name} must be given once and not empty`, { field: name });
  return value;
}

/** The query both endpoint shapes share: the resource and at most one identity selector. */
function parseTokenQuery(req: Request): TokenRequest {
  const resource = queryString(req, 'resource');
  if (!resource) throw new InvalidRequest('Required query variable resource is missing', { field: 'resource' });
  const selector: PrincipalSelector = {};
  for (const key of SELECTOR_KEYS) selector[key] = queryString(req, key);
  return { resource, selector };
}

/**
 * IMDS refuses any request that came through a proxy (it carries X-Forwarded-For), so a
 * server-side request forgery in a sibling's web proxy cannot fetch tokens; so do we.
 */
function refuseForwarded(req: Request, _res: Response, next: NextFunction): void {
  if (req.get('x-forwarded-for') !== undefined) return next(new InvalidRequest('requests through a proxy (X-Forwarded-For) are refused'));
  return next();
}

function methodNotAllowed(_req: Request, res: Response): void {
  res.status(405).set('Allow', 'GET, HEAD').json({ error: 'method_not_allowed', error_description: 'only GET is supported' });
}

function imdsToken(ctx: IdentityContext) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      // IMDS checks the header before anything else: @azure/identity's availability probe
      // relies on a header-less request being answered at once.
      if (req.get('metadata')?.toLowerCase() !== 'true') throw new MetadataHeaderRequired();
      const version = queryString(req, 'api-version');
      if (!version || !/^\d{4}-\d{2}-\d{2}$/.test(version) || version < IMDS_MIN_API_VERSION) {
        throw new InvalidRequest(`api-version must be ${IMDS_MIN_API_VERSION} or later`, { field: 'api-version' });
      }
      res.set('Cache-Control', 'no-store').json(await grantToken(ctx, parseTokenQuery(req), 'imds'));
      return;
    } catch (error) {
      next(error);
      return;
    }
  };
}

function appServiceToken(ctx: IdentityContext) {
  const expected = Buffer.from(ctx.identityHeader);
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const given = Buffer.from(req.get('x-identity-header') ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Unauthorized('X-IDENTITY-HEADER is missing or wrong');
      if (queryString(req, 'api-version') !== APP_SERVICE_API_VERSION) {
        throw new InvalidRequest(`api-version must be ${APP_SERVICE_API_VERSION}`, { field: 'api-version' });
      }
      res.set('Cache-Control', 'no-store').json(await grantToken(ctx, parseTokenQuery(req), 'app-service'));
      return;
    } catch (error) {
      next(error);
      return;
    }
  };
}

/**
 * The local managed-identity endpoint: IMDS's token path, App Service's, and the OpenID
 * discovery document and JWKS a relying party verifies the tokens with.
 */
export function createIdentityApp(ctx: IdentityContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  // Express matches these with or without a trailing slash; MSAL sends IMDS's with one.
  app.route(IMDS_TOKEN_PATH).get(refuseForwarded, imdsToken(ctx)).all(methodNotAllowed);
  app.route(APP_SERVICE_TOKEN_PATH).get(refuseForwarded, appServiceToken(ctx)).all(methodNotAllowed);

  app
    .route('/.well-known/openid-configuration')
    .get((_req, res) => {
      res.json({
        issuer: ctx.issuer,
        jwks_uri: `${ctx.issuer}/discovery/keys`,
        token_endpoint: `${ctx.issuer}${IMDS_TOKEN_PATH}`,
        response_types_supported: ['token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        claims_supported: ['aud', 'iss', 'iat', 'nbf', 'exp', 'jti', 'sub', 'oid', 'appid', 'appidacr', 'idtyp', 'tid', 'ver', 'xms_mirid'],
      });
    })
    .all(methodNotAllowed);

  app
    .route('/discovery/keys')
    .get((_req, res) => {
      res.json({ keys: ctx.keys.published(ctx.tokenLifetimeSeconds * 1000, ctx.now().getTime()).map(toJwk) });
    })
    .all(methodNotAllowed);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', error_description: 'no such endpoint' });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, error));
  return app;
}
