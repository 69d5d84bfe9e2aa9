import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { InternalError, InvalidRequest, SkrError, Unauthorized } from '../../errors';
import { errorHandler, type ErrorEnvelope } from '../../lib/http-errors';
import { openApiDocument } from '../../lib/openapi';
import { mounter } from '../../lib/route';
import { decodeAttestRequest } from '..';
import { appraiseBoundEvidence, appraiseEvidence, evidenceOf, type AttestContext } from './attest';
import type { ReferenceValueStore } from './reference-values';
import { MaaError, VERIFIER_ROUTES as R } from './routes';
import { toJwk, type SigningKeyRing } from '../../oidc';
import { issueToken } from './token';

export interface VerifierContext extends AttestContext {
  issuer: string;
  tokenLifetimeSeconds: number;
  keys: SigningKeyRing;
  references: ReferenceValueStore;
  adminToken: string;
}

const BODY_LIMIT = '256kb';

/** MAA's error envelope. */
function sendError(res: Response, error: unknown): void {
  const skr = error instanceof SkrError ? error : new InternalError();
  // Every refusal of evidence is a 400 on this surface, as MAA answers; the code says why.
  const status = skr.status >= 500 ? skr.status : skr instanceof Unauthorized ? 401 : skr.status === 413 ? 413 : 400;
  res.status(status).json({ error: { code: skr.code, message: skr.message } });
}

const VERIFIER_ERRORS: ErrorEnvelope = { send: sendError, invalid: (message, details) => new InvalidRequest(message, details) };

/** The verifier's API as OpenAPI 3.1, served at /openapi.json. */
export const VERIFIER_OPENAPI = openApiDocument({ title: 'skr verifier', version: '1.0.0', description: 'Microsoft Azure Attestation-compatible SEV-SNP verifier.' }, Object.values(R), MaaError);

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
  // Every admin path, known or not, needs the admin token first.
  app.use('/admin', requireAdmin(ctx));
  const on = mounter(app, VERIFIER_ERRORS);

  on(R.attest, async ({ body }, _req, res) => {
    const { claims } = await appraiseEvidence(decodeAttestRequest(body), ctx);
    const token = await issueToken(claims, ctx.keys.current(), { issuer: ctx.issuer, lifetimeSeconds: ctx.tokenLifetimeSeconds, now: ctx.now() });
    res.json({ token });
  });

  on(R.appraiseBound, async ({ body }, _req, res) => {
    const { claims } = await appraiseBoundEvidence(evidenceOf(decodeAttestRequest({ report: body.report })), Buffer.from(body.reportData, 'hex'), ctx);
    const token = await issueToken(claims, ctx.keys.current(), { issuer: ctx.issuer, lifetimeSeconds: ctx.tokenLifetimeSeconds, now: ctx.now() });
    res.json({ token });
  });

  on(R.challenge, async (_in, _req, res) => {
    const { nonce, expiresAt } = await ctx.challenges.issue();
    res.json({ nonce, expiresAt: expiresAt.toISOString() });
  });

  on(R.certs, (_in, _req, res) => {
    res.json({ keys: ctx.keys.published(ctx.tokenLifetimeSeconds * 1000, ctx.now().getTime()).map(toJwk) });
  });

  on(R.discovery, (_in, _req, res) => {
    res.json({
      issuer: ctx.issuer,
      jwks_uri: `${ctx.issuer}/certs`,
      challenge_endpoint: `${ctx.issuer}/challenge`,
      response_types_supported: ['token', 'none'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['x-ms-ver', 'x-ms-attestation-type', 'x-ms-compliance-status', 'x-ms-policy-hash', 'x-ms-runtime', 'x-ms-sevsnpvm-*', 'nonce'],
    });
  });

  on(R.listReferences, async (_in, _req, res) => {
    res.json({ references: await ctx.references.list() });
  });
  on(R.addReference, async ({ body }, _req, res) => {
    res.status(201).json(await ctx.references.add(body.kind, body.value, body.note));
  });
  on(R.removeReference, async ({ params }, _req, res) => {
    if (!(await ctx.references.remove(params.kind, params.value))) {
      // Not through sendError: this surface answers every other refusal with 400.
      res.status(404).json({ error: { code: 'reference_not_found', message: 'no such reference value' } });
      return;
    }
    res.status(204).end();
  });
  on(R.rotateSigningKey, async (_in, _req, res) => {
    const key = await ctx.keys.rotate(ctx.now().getTime());
    res.json({ kid: key.kid });
  });

  on(R.openapi, (_in, _req, res) => {
    res.json(VERIFIER_OPENAPI);
  });

  app.use((_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such endpoint' } });
  });
  app.use(errorHandler(VERIFIER_ERRORS, BODY_LIMIT));
  return app;
}
