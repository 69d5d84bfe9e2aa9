import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { BodyTooLarge, InternalError, InvalidRequest, SkrError, Unauthorized } from '../../errors';
import { clientErrorOf } from '../../lib/http-errors';
import { decodeAttestRequest } from '../request';
import { appraiseEvidence, type AttestContext } from './attest';
import type { ReferenceValueStore } from './reference-values';
import { toJwk, type SigningKeyRing } from './signing-keys';
import { issueToken } from './token';

export interface VerifierContext extends AttestContext {
  issuer: string;
  tokenLifetimeSeconds: number;
  keys: SigningKeyRing;
  references: ReferenceValueStore;
  adminToken: string;
}

const API_VERSIONS = new Set(['2020-10-01', '2022-08-01', '2025-06-01']);
const BODY_LIMIT = '256kb';

/** MAA's error envelope. */
function sendError(res: Response, error: unknown): void {
  const skr = error instanceof SkrError ? error : new InternalError();
  // Every refusal of evidence is a 400 on this surface, as MAA answers; the code says why.
  const status = skr.status >= 500 ? skr.status : skr.code === 'unauthorized' ? 401 : skr.status === 413 ? 413 : 400;
  res.status(status).json({ error: { code: skr.code, message: skr.message } });
}

function requireAdmin(ctx: VerifierContext) {
  const expected = Buffer.from(`Bearer ${ctx.adminToken}`);
  return (req: Request, _res: Response, next: NextFunction) => {
    const given = Buffer.from(req.get('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return next(new Unauthorized());
    return next();
  };
}

/** The verifier's HTTP surface: MAA's SEV-SNP attest endpoint, discovery, JWKS, challenges, admin. */
export function createVerifierApp(ctx: VerifierContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('case sensitive routing', false);
  app.use(express.json({ limit: BODY_LIMIT, type: () => true }));

  app.post('/attest/:type', async (req, res, next) => {
    try {
      if (String(req.params.type).toLowerCase() !== 'sevsnpvm') throw new InvalidRequest(`attestation type "${req.params.type}" is not supported`);
      const version = req.query['api-version'];
      if (typeof version !== 'string' || !API_VERSIONS.has(version)) {
        throw new InvalidRequest(`api-version must be one of ${[...API_VERSIONS].join(', ')}`);
      }
      const { claims } = await appraiseEvidence(decodeAttestRequest(req.body), ctx);
      const token = await issueToken(claims, ctx.keys.current(), { issuer: ctx.issuer, lifetimeSeconds: ctx.tokenLifetimeSeconds, now: ctx.now() });
      res.json({ token });
      return;
    } catch (error) {
      next(error);
      return;
    }
  });

  app.post('/challenge', (_req, res) => {
    const { nonce, expiresAt } = ctx.challenges.issue();
    res.json({ nonce, expiresAt: expiresAt.toISOString() });
  });

  app.get('/certs', (_req, res) => {
    res.json({ keys: ctx.keys.published(ctx.tokenLifetimeSeconds * 1000, ctx.now().getTime()).map(toJwk) });
  });

  app.get('/.well-known/openid-configuration', (_req, res) => {
    res.json({
      issuer: ctx.issuer,
      jwks_uri: `${ctx.issuer}/certs`,
      challenge_endpoint: `${ctx.issuer}/challenge`,
      response_types_supported: ['token', 'none'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['x-ms-ver', 'x-ms-attestation-type', 'x-ms-compliance-status', 'x-ms-policy-hash', 'x-ms-runtime', 'x-ms-sevsnpvm-*', 'nonce'],
    });
  });

  const admin = express.Router();
  admin.use(requireAdmin(ctx));
  admin.get('/refs', async (_req, res) => {
    res.json({ references: await ctx.references.list() });
  });
  admin.post('/refs', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    res.status(201).json(await ctx.references.add(body.kind, body.value, typeof body.note === 'string' ? body.note : undefined));
  });
  admin.delete('/refs/:kind/:value', async (req, res) => {
    const removed = await ctx.references.remove(req.params.kind, req.params.value);
    if (!removed) {
      res.status(404).json({ error: { code: 'reference_not_found', message: 'no such reference value' } });
      return;
    }
    res.status(204).end();
  });
  admin.post('/signing-keys/rotate', async (_req, res) => {
    const key = await ctx.keys.rotate(ctx.now().getTime());
    res.json({ kid: key.kid });
  });
  app.use('/admin', admin);

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such endpoint' } });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const parseError = error as { type?: string; status?: number };
    if (parseError.type === 'entity.too.large') return sendError(res, new BodyTooLarge(`request body exceeds ${BODY_LIMIT}`));
    if (parseError.type === 'entity.parse.failed') return sendError(res, new InvalidRequest('the request body is not JSON'));
    return sendError(res, clientErrorOf(error));
  });
  return app;
}
