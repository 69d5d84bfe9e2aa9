import express, { type RequestHandler, type Response } from 'express';
import { EndpointNotAllowed, InternalError, InvalidArgument, InvalidRequest, ReleaseDenied, SkrError } from '../errors';
import { normaliseEndpoint } from '../lib/endpoint';
import { errorHandler, type ErrorEnvelope } from '../lib/http-errors';
import { MAX_RUNTIME_DEPTH, nestsDeeperThan } from '../lib/json-depth';
import { mounter } from '../lib/route';
import type { KbsClient } from '../kbs';
import type { MaaClient } from '../maa';
import type { EvidenceCollector } from './evidence';
import type { Observability } from './observability';
import { SIDECAR_OPENAPI } from './openapi';
import { releaseKey, type ReleaseDeps } from './tee-release';
import { SIDECAR_ROUTES as R } from './routes';
import { reportDataFor } from '../snp';
import { decodeRuntimeData } from './runtime-data';
import { kbsResource } from './kbs-resource';

export interface SidecarContext extends ReleaseDeps {
  evidence: EvidenceCollector;
  maa: MaaClient;
  /** Defaults for requests that name no endpoint. */
  maaEndpoint?: string;
  akvEndpoint?: string;
  /** The client of the configured KBS (`--kbs-url`), absent when there is none. */
  kbs?: KbsClient;
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
  if (skr instanceof ReleaseDenied && skr.details) body.details = skr.details;
  // An upstream's own status, code and message (already cut and stripped of anything token-shaped).
  if (skr.details?.upstream) body.upstream = skr.details.upstream;
  res.status(skr.status).json(body);
}

const SIDECAR_ERRORS: ErrorEnvelope = { send: sendError, invalid: (message, details) => new InvalidRequest(message, details) };

/** An endpoint a caller names, or the configured default; either way it must be allowed. */
function endpoint(value: string | null | undefined, fallback: string | undefined, field: string, allowed: Set<string>): string {
  if (value === undefined || value === null || value === '') {
    if (!fallback) throw new InvalidRequest(`${field} is required (no default is configured)`, { field });
    return fallback;
  }
  let origin: string;
  try {
    origin = normaliseEndpoint(value, field);
  } catch (error) {
    throw error instanceof InvalidArgument ? new InvalidRequest(error.message, { field }) : error;
  }
  if (!allowed.has(origin)) throw new EndpointNotAllowed(field);
  return origin;
}

/** Counts each release by how it ended, once its answer is sent. */
function countRelease(observability: Observability): RequestHandler {
  return (_req, res, next) => {
    res.on('finish', () => {
      const decision = res.statusCode === 200 ? 'released' : res.statusCode === 403 || res.statusCode === 404 ? 'denied' : 'failed';
      observability.releases.inc({ decision });
    });
    next();
  };
}

const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: 'no such endpoint', code: 'not_found' });
};

/** The sidecar's HTTP API: Microsoft's routes and shapes, honest errors, no fake reports. */
export function createSidecarApp(ctx: SidecarContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(ctx.observability.middleware);
  // Microsoft's sidecar parses JSON whatever the Content-Type says; so do we.
  app.use(express.json({ limit: BODY_LIMIT, type: () => true, strict: false }));
  const on = mounter(app, SIDECAR_ERRORS);

  on(R.status, async (_in, _req, res) => {
    const { ready, checks } = await ctx.status();
    res.status(ready ? 200 : 503).json({
      message: ready ? 'Status OK' : 'Status NOT OK',
      ready,
      device: ctx.evidence.device.name,
      virtual: ctx.evidence.device.virtual,
      checks,
    });
  });

  on(R.attestRaw, async ({ body }, _req, res) => {
    const report = await ctx.evidence.report(reportDataFor(decodeRuntimeData(body.runtime_data)));
    res.json({ report: report.toString('hex') });
  });

  on(R.attestCombined, async ({ body }, _req, res) => {
    const evidence = await ctx.evidence.collect(reportDataFor(decodeRuntimeData(body.runtime_data)));
    res.json({
      evidence: evidence.report.toString('base64'),
      endorsements: Buffer.from(evidence.vcekCertChain).toString('base64'),
      uvm_endorsements: evidence.uvmEndorsements?.toString('base64') ?? '',
      endorsed_tcb: evidence.endorsedTcb,
    });
  });

  on(R.attestMaa, async ({ body }, _req, res) => {
    const maa = endpoint(body.maa_endpoint, ctx.maaEndpoint, 'maa_endpoint', ctx.allowedEndpoints);
    const runtime = decodeRuntimeData(body.runtime_data);
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

  on(
    R.keyRelease,
    async ({ body, query }, _req, res) => {
      const key = await releaseKey(
        {
          maaOrigin: endpoint(body.maa_endpoint, ctx.maaEndpoint, 'maa_endpoint', ctx.allowedEndpoints),
          akvOrigin: endpoint(body.akv_endpoint, ctx.akvEndpoint, 'akv_endpoint', ctx.allowedEndpoints),
          kid: body.kid,
          accessToken: body.access_token,
          enc: body.enc,
        },
        ctx,
      );
      // Microsoft's shape is the JWK as a JSON string; ?format=object gives the object.
      res.json({ key: query.format === 'object' ? key : JSON.stringify(key) });
    },
    countRelease(ctx.observability),
  );

  // Express answers HEAD with the GET route: a HEAD must not make the KBS release (and audit) a resource it cannot deliver.
  app.use('/cdh/resource', (req, res, next) => (req.method === 'HEAD' ? notFound(req, res, next) : next()));
  on(
    R.cdhResource,
    async ({ params }, _req, res) => {
      const bytes = await kbsResource(ctx.kbs, `${params.repository}/${params.type}/${params.tag}`);
      res.type('application/octet-stream').send(bytes);
    },
    countRelease(ctx.observability),
  );

  on(R.metrics, async (_in, _req, res) => {
    res.type(ctx.observability.registry.contentType).send(await ctx.observability.registry.metrics());
  });

  on(R.openapi, (_in, _req, res) => {
    res.json(SIDECAR_OPENAPI);
  });

  app.use(notFound);
  app.use(errorHandler(SIDECAR_ERRORS, BODY_LIMIT));
  return app;
}
