import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { InvalidRequest, KbsEndpointNotFound, KbsPolicyNotFound, KbsResourceNotFound, KbsResourcePathInvalid } from '../errors';
import { answerUnparsableRequests, errorHandler, type ErrorEnvelope } from '../lib/http-errors';
import type { Server } from 'node:http';
import { authorizeAdmin, type AdminKey } from './admin-auth';
import type { AuditEntry } from './audit';
import type { KeyBroker } from './broker';
import { kbsErrorBody } from './error-body';
import { SESSION_COOKIE } from './protocol';
import { sourceKey, type RateLimiter } from './rate-limit';
import { parseResourcePath } from './resource-path';
import { parsePrefix } from './resource-policies';

export interface KbsAppContext {
  broker: KeyBroker;
  adminKeys: readonly AdminKey[];
  authLimiter: RateLimiter;
  /** Set the cookie's Secure attribute (the KBS serves HTTPS). */
  secureCookie: boolean;
}

/** trustee's default payload limit is 2 MiB; SNP evidence with its certificates is under 64 KiB. */
const BODY_LIMIT = '1mb';

function send(res: Response, error: unknown): void {
  const { status, body } = kbsErrorBody(error);
  if (status === 429 && typeof body.details?.retryAfter === 'number') res.set('Retry-After', String(body.details.retryAfter));
  res.status(status).json(body);
}

const KBS_ERRORS: ErrorEnvelope = { send, invalid: (message, details) => new InvalidRequest(message, details) };

/** The session id from the Cookie header: 32 lowercase hex digits, as /auth issues them. */
export function sessionIdOf(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === SESSION_COOKIE && value && /^[0-9a-f]{32}$/.test(value)) return value;
  }
  return undefined;
}

function bearerOf(req: Request): string | undefined {
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(req.get('authorization') ?? '');
  return match?.[1];
}

/**
 * trustee's cookie (name, value, Expires fixed at /auth) with attributes trustee leaves out:
 * HttpOnly, Path limited to the protocol, SameSite, and Secure when served over HTTPS.
 */
function setSessionCookie(res: Response, id: string, expiresAt: number, secure: boolean): void {
  const attributes = [`${SESSION_COOKIE}=${id}`, `Expires=${new Date(expiresAt).toUTCString()}`, 'Path=/kbs/v0', 'HttpOnly', 'SameSite=Strict'];
  if (secure) attributes.push('Secure');
  res.set('Set-Cookie', attributes.join('; '));
}

/**
 * The resource routes. The group does not capture: Express would decode a captured parameter
 * itself and answer a malformed escape with its own 400, where segmentsAfter decodes each
 * segment and answers it as the invalid path it is.
 */
const RESOURCE_ROUTE = /^\/kbs\/v0\/resource(?:\/.*)?$/;

type Handler = (req: Request, res: Response) => Promise<void>;
const handle = (fn: Handler) => (req: Request, res: Response, next: NextFunction) => fn(req, res).catch(next);

function segmentsAfter(req: Request, base: string): string[] {
  const rest = req.path.slice(base.length);
  return rest === ''
    ? []
    : rest
        .replace(/^\//, '')
        .split('/')
        .map((s) => {
          try {
            return decodeURIComponent(s);
          } catch {
            throw new KbsResourcePathInvalid();
          }
        });
}

/** The KBS's HTTP surface: protocol 0.4.0 under /kbs/v0, the token JWKS, and the admin routes. */
export function createKbsApp(ctx: KbsAppContext): express.Express {
  const { broker } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.set('case sensitive routing', true);
  const json = express.json({ limit: BODY_LIMIT, type: () => true });
  // A refused admin token is audited under the route's action through the per-caller gate (KeyBroker.refused).
  const admin = (action: AuditEntry['action'], fn: (req: Request, res: Response, principal: string) => Promise<void>) =>
    handle(async (req, res) => {
      let principal: string;
      try {
        principal = await authorizeAdmin(req.get('authorization'), ctx.adminKeys, broker.options.now());
      } catch (error) {
        return broker.refused({ action, outcome: 'denied', source: req.socket.remoteAddress }, error);
      }
      return fn(req, res, principal);
    });

  app.post(
    '/kbs/v0/auth',
    (req, _res, next) => {
      try {
        ctx.authLimiter.take(sourceKey(req.socket.remoteAddress ?? 'unknown'), broker.options.now().getTime());
        next();
      } catch (error) {
        next(error);
      }
    },
    json,
    handle(async (req, res) => {
      const { challenge, session } = await broker.auth(req.body);
      setSessionCookie(res, session.id, session.expiresAt, ctx.secureCookie);
      res.json(challenge);
    }),
  );

  app.post(
    '/kbs/v0/attest',
    json,
    handle(async (req, res) => {
      const { token, session } = await broker.attest(sessionIdOf(req.get('cookie')), req.body, req.socket.remoteAddress);
      setSessionCookie(res, session.id, session.expiresAt, ctx.secureCookie);
      res.json({ token });
    }),
  );

  // Express answers HEAD with the GET route: a HEAD must not run (and audit) a release it cannot deliver.
  app.head(RESOURCE_ROUTE, (_req, _res, next) => next(new KbsEndpointNotFound()));
  app.get(
    RESOURCE_ROUTE,
    handle(async (req, res) => {
      const path = parseResourcePath(segmentsAfter(req, '/kbs/v0/resource'));
      const jwe = await broker.resource(path, { sessionId: sessionIdOf(req.get('cookie')), bearer: bearerOf(req), source: req.socket.remoteAddress });
      res.json(jwe);
    }),
  );

  // Admin routes read their body only once the token is checked: an anonymous caller gets its 401, never a parse error.
  const raw = express.raw({ limit: BODY_LIMIT, type: () => true });
  const readBody = (parser: RequestHandler, req: Request, res: Response) => new Promise<void>((resolve, reject) => parser(req, res, (error?: unknown) => (error ? reject(error) : resolve())));
  app.post(
    RESOURCE_ROUTE,
    admin('resource.set', async (req, res, principal) => {
      const path = parseResourcePath(segmentsAfter(req, '/kbs/v0/resource'));
      await readBody(raw, req, res);
      await broker.setResource(path, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), principal);
      res.status(200).end();
    }),
  );
  app.delete(
    RESOURCE_ROUTE,
    admin('resource.delete', async (req, res, principal) => {
      const path = parseResourcePath(segmentsAfter(req, '/kbs/v0/resource'));
      if (!(await broker.deleteResource(path, principal))) throw new KbsResourceNotFound(path.join('/'));
      res.status(200).end();
    }),
  );

  // Resource policies are release-policy JSON attached to a path prefix (not trustee's Rego).
  app.get(
    '/kbs/v0/resource-policy',
    admin('policy.list', async (_req, res) => {
      res.json({ policies: broker.options.policies.list() });
    }),
  );
  app.post(
    '/kbs/v0/resource-policy',
    admin('policy.set', async () => {
      throw new InvalidRequest('Rego resource policies are not supported: PUT a release policy (JSON) at /kbs/v0/resource-policy/{repository}[/{type}[/{tag}]]');
    }),
  );
  app.put(
    /^\/kbs\/v0\/resource-policy\/.+$/,
    admin('policy.set', async (req, res, principal) => {
      const prefix = parsePrefix(segmentsAfter(req, '/kbs/v0/resource-policy'));
      await readBody(json, req, res);
      await broker.setPolicy(prefix, req.body, principal);
      res.json({ prefix });
    }),
  );
  app.delete(
    /^\/kbs\/v0\/resource-policy\/.+$/,
    admin('policy.delete', async (req, res, principal) => {
      const prefix = parsePrefix(segmentsAfter(req, '/kbs/v0/resource-policy'));
      if (!(await broker.deletePolicy(prefix, principal))) throw new KbsPolicyNotFound(prefix);
      res.status(200).end();
    }),
  );

  app.get('/.well-known/openid-configuration', (_req, res) => {
    res.json({ issuer: broker.options.issuer, jwks_uri: `${broker.options.issuer}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['ES256'] });
  });
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.json({ keys: [broker.options.tokenKey.jwk] });
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use((_req, _res, next) => next(new KbsEndpointNotFound()));
  app.use(errorHandler(KBS_ERRORS, BODY_LIMIT));
  return app;
}

/** Requests Node's parser refuses, in the same body shape. */
export function answerUnparsable(server: Server): void {
  answerUnparsableRequests(server, (_status, message, code) => ({ type: `urn:skr:kbs:error:${code}`, detail: message, code }));
}
