import express, { type NextFunction, type Request, type Response } from 'express';
import { BodyTooLarge, EndpointNotAllowed, InternalError, InvalidArgument, InvalidRequest, SkrError } from '../errors';
import { isKeyWrapAlgorithm, type KeyWrapAlgorithm } from '../keywrap';
import { normaliseEndpoint } from '../lib/endpoint';
import { clientErrorOf } from '../lib/http-errors';
import { MAX_RUNTIME_DEPTH, nestsDeeperThan } from '../lib/json-depth';
import type { MaaClient } from '../maa/client';
import type { EvidenceCollector } from './evidence';
import type { Observability } from './observability';
import { OPENAPI } from './openapi';
import { releaseKey, type ReleaseDeps } from './release';
import { decodeRuntimeData, reportDataFor } from './runtime-data';

export interface SidecarContext extends ReleaseDeps {
  evidence: EvidenceCollector;
  maa: MaaClient;
  /** Defaults for requests that name no endpoint. */
  maaEndpoint?: string;
  akvEndpoint?: string;
  /** Origins callers may name; a sibling must never steer the sidecar's token elsewhere. */
  allowedEndpoints: Set<string>;
  /** Readiness checks beyond the device (e.g. the TEE key). */
  status(): Promise<{ ready: boolean; checks: Record<string, unknown> }>;
  observability: Observability;
}

export const BODY_LIMIT = 64 * 1024;

/** Microsoft's error body `{"error": message}` plus our stable code. */
function sendError(res: Response, error: unknown): void {
  const skr = error instanceof SkrError ? error : new InternalError();
  res.locals.errorCode = skr.code;
  const body: Record<string, unknown> = { error: skr.message, code: skr.code };
  // A denial carries the key service's explanation: claims, never key material.
  if (skr.code === 'release_denied' && skr.details) body.details = skr.details;
  // An upstream's own status, code and message (already cut and stripped of anything token-shaped).
  if (skr.details?.upstream) body.upstream = skr.details.upstream;
  res.status(skr.status).json(body);
}

function body(req: Request): Record<string, unknown> {
  const value = req.body as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRequest('the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** An endpoint a caller names, or the configured default; either way it must be allowed. */
function endpoint(value: unknown, fallback: string | undefined, field: string, allowed: Set<string>): string {
  if (value === undefined || value === null || value === '') {
    if (!fallback) throw new InvalidRequest(`${field} is required (no default is configured)`, { field });
    return fallback;
  }
  if (typeof value !== 'string') throw new InvalidRequest(`${field} must be a string`, { field });
  let origin: string;
  try {
    origin = normaliseEndpoint(value, field);
  } catch (error) {
    throw error instanceof InvalidArgument ? new InvalidRequest(error.message, { field }) : error;
  }
  if (!allowed.has(origin)) throw new EndpointNotAllowed(field);
  return origin;
}

/** The sidecar's HTTP API: Microsoft's routes and shapes, honest errors, no fake reports. */
export function createSidecarApp(ctx: SidecarContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(ctx.observability.middleware);
  // Microsoft's sidecar parses JSON whatever the Content-Type says; so do we.
  app.use(express.json({ limit: BODY_LIMIT, type: () => true, strict: false }));

  app.get('/status', async (_req, res) => {
    const { ready, checks } = await ctx.status();
    res.status(ready ? 200 : 503).json({
      message: ready ? 'Status OK' : 'Status NOT OK',
      ready,
      device: ctx.evidence.device.name,
      virtual: ctx.evidence.device.virtual,
      checks,
    });
  });

  app.post('/attest/raw', async (req, res) => {
    const runtime = decodeRuntimeData(body(req).runtime_data);
    const { report } = await ctx.evidence.device.getReport({ reportData: reportDataFor(runtime) });
    res.json({ report: report.toString('hex') });
  });

  app.post('/attest/combined', async (req, res) => {
    const runtime = decodeRuntimeData(body(req).runtime_data);
    const evidence = await ctx.evidence.collect(reportDataFor(runtime));
    res.json({
      evidence: evidence.report.toString('base64'),
      endorsements: Buffer.from(evidence.vcekCertChain).toString('base64'),
      uvm_endorsements: evidence.uvmEndorsements?.toString('base64') ?? '',
      endorsed_tcb: evidence.endorsedTcb,
    });
  });

  app.post('/attest/maa', async (req, res) => {
    const b = body(req);
    const maa = endpoint(b.maa_endpoint, ctx.maaEndpoint, 'maa_endpoint', ctx.allowedEndpoints);
    const runtime = decodeRuntimeData(b.runtime_data);
    let parsed: unknown;
    try {
      parsed = JSON.parse(runtime.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || nestsDeeperThan(parsed, MAX_RUNTIME_DEPTH)) {
      throw new InvalidRequest('runtime_data must decode to a JSON object of sane depth (it is sent as JSON runtime data)', { field: 'runtime_data' });
    }
    const { token } = await ctx.maa.attest(maa, parsed as Record<string, unknown>, async (data) => {
      const evidence = await ctx.evidence.collect(reportDataFor(data));
      return { report: evidence.report, vcekCertChain: evidence.vcekCertChain, uvmEndorsements: evidence.uvmEndorsements ? [evidence.uvmEndorsements] : undefined };
    });
    res.json({ token });
  });

  app.post('/key/release', async (req, res) => {
    res.on('finish', () => {
      const decision = res.statusCode === 200 ? 'released' : res.statusCode === 403 || res.statusCode === 404 ? 'denied' : 'failed';
      ctx.observability.releases.inc({ decision });
    });
    const b = body(req);
    if (b.access_token !== undefined && (typeof b.access_token !== 'string' || b.access_token.length === 0 || b.access_token.length > 16 * 1024)) {
      throw new InvalidRequest('access_token must be a non-empty string', { field: 'access_token' });
    }
    if (b.enc !== undefined && !isKeyWrapAlgorithm(b.enc)) throw new InvalidRequest('enc must be CKM_RSA_AES_KEY_WRAP, RSA_AES_KEY_WRAP_256 or RSA_AES_KEY_WRAP_384', { field: 'enc' });
    const key = await releaseKey(
      {
        maaOrigin: endpoint(b.maa_endpoint, ctx.maaEndpoint, 'maa_endpoint', ctx.allowedEndpoints),
        akvOrigin: endpoint(b.akv_endpoint, ctx.akvEndpoint, 'akv_endpoint', ctx.allowedEndpoints),
        // parseKid validates it.
        kid: b.kid as string,
        accessToken: b.access_token as string | undefined,
        enc: b.enc as KeyWrapAlgorithm | undefined,
      },
      ctx,
    );
    // Microsoft's shape is the JWK as a JSON string; ?format=object gives the object.
    res.json({ key: req.query.format === 'object' ? key : JSON.stringify(key) });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(ctx.observability.registry.contentType).send(await ctx.observability.registry.metrics());
  });

  app.get('/openapi.json', (_req, res) => {
    res.json(OPENAPI);
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'no such endpoint', code: 'not_found' });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const parse = error as { type?: string };
    if (parse.type === 'entity.too.large') return sendError(res, new BodyTooLarge(`request body exceeds ${BODY_LIMIT} bytes`));
    if (parse.type === 'entity.parse.failed' || parse.type === 'encoding.unsupported' || parse.type === 'charset.unsupported') {
      return sendError(res, new InvalidRequest('the request body is not JSON'));
    }
    return sendError(res, clientErrorOf(error));
  });
  return app;
}
