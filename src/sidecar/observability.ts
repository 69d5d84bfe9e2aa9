import type { NextFunction, Request, Response } from 'express';
import pino, { type Logger } from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';

/**
 * JSON logs and Prometheus metrics for the sidecar. Logs carry route, status, duration and
 * error code only — never bodies, tokens or key material; stdout stays the CLI's.
 */
export interface Observability {
  logger: Logger;
  registry: Registry;
  releases: Counter<'decision'>;
  middleware(req: Request, res: Response, next: NextFunction): void;
}

export function createObservability(level = process.env.SKR_LOG_LEVEL ?? 'info'): Observability {
  const logger = pino({ level, base: { service: 'skr-sidecar' } }, pino.destination(2));
  const registry = new Registry();
  const requests = new Counter({
    name: 'skr_http_requests_total',
    help: 'Sidecar HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'skr_http_request_duration_seconds',
    help: 'Sidecar HTTP request latency by route and outcome',
    labelNames: ['route', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const releases = new Counter({
    name: 'skr_key_releases_total',
    help: 'Key releases by decision (released, denied, failed)',
    labelNames: ['decision'] as const,
    registers: [registry],
  });
  return {
    logger,
    registry,
    releases,
    middleware(req, res, next) {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        // The matched route pattern, never the raw URL (which a caller controls).
        const route = (req.route?.path as string | undefined) ?? 'unmatched';
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const outcome = res.statusCode < 400 ? 'ok' : res.statusCode < 500 ? 'client_error' : 'server_error';
        requests.inc({ route, method: req.method, status: String(res.statusCode) });
        latency.observe({ route, outcome }, seconds);
        logger.info({ route, method: req.method, status: res.statusCode, ms: Math.round(seconds * 1e4) / 10, code: res.locals.errorCode }, 'request');
      });
      next();
    },
  };
}
