import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import type { ErrorEnvelope } from './http-errors';

/**
 * One route of a service, described once: its JSON Schemas validate the request before the
 * handler runs and are the route's entry in the service's OpenAPI document (src/lib/openapi.ts).
 * Adding a route is one RouteSchema and one handler.
 */
export interface RouteSchema<P extends TObject = TObject, Q extends TObject = TObject, B extends TSchema = TSchema> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express's syntax (`/keys/:name`); the document writes `{name}`. */
  path: string;
  summary: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Answers with a body other than the error envelope, by status. */
  responses: Record<number, ResponseSchema>;
  /** Statuses answered in the service's error envelope. */
  errors: number[];
}

export interface ResponseSchema {
  description: string;
  /** JSON body; absent with `contentType` for another media type, absent alone for no body. */
  schema?: TSchema;
  contentType?: string;
}

/** What a handler receives: the request's parts, already checked against the route's schemas. */
export interface Checked<R extends RouteSchema> {
  params: Static<Exclude<R['params'], undefined>>;
  query: Static<Exclude<R['query'], undefined>>;
  body: Static<Exclude<R['body'], undefined>>;
}

export type CheckedHandler<R extends RouteSchema> = (input: Checked<R>, req: Request, res: Response) => Promise<void> | void;

/** The 2020-12 dialect, as OpenAPI 3.1 writes schemas; nothing is coerced, every keyword is known. */
const ajv = new Ajv2020({ allErrors: false, coerceTypes: false, useDefaults: false, strict: true });

/** A defining helper that keeps each route's literal types for its handler. */
export function route<P extends TObject, Q extends TObject, B extends TSchema>(schema: RouteSchema<P, Q, B>): RouteSchema<P, Q, B> {
  return schema;
}

/** The first schema violation as a sentence naming the field, and the field for `details`. */
function describe(part: 'body' | 'query' | 'params', error: ErrorObject): { message: string; field?: string } {
  const missing = error.keyword === 'required' ? (error.params as { missingProperty: string }).missingProperty : undefined;
  const path = [...error.instancePath.split('/').slice(1), ...(missing ? [missing] : [])].map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const field = path.length > 0 ? path.join('.') : undefined;
  const subject = field ?? (part === 'body' ? 'the request body' : `the ${part}`);
  if (missing) return { message: `${subject} is required`, field };
  return { message: `${subject} ${error.message ?? 'is invalid'}`, field };
}

function compile(schema: TSchema | undefined): ValidateFunction | undefined {
  return schema ? ajv.compile(schema) : undefined;
}

/**
 * A service's way to mount routes on `router`: for each, the path parameters, query and body
 * are checked against the route's schemas before `handler` runs (the service's `invalid` error
 * names the first violation), and a thrown error goes to the app's error handler. `before`
 * runs first, whatever the request holds.
 */
export function mounter(router: Router, envelope: Pick<ErrorEnvelope, 'invalid'>) {
  return <R extends RouteSchema>(schema: R, handler: CheckedHandler<R>, ...before: RequestHandler[]): void => {
    const checks = (['params', 'query', 'body'] as const).map((part) => ({ part, validate: compile(schema[part]) }));
    const run = async (req: Request, res: Response, next: NextFunction) => {
      try {
        for (const { part, validate } of checks) {
          const value = part === 'body' ? (req.body as unknown) : req[part];
          if (validate && !validate(value)) {
            const { message, field } = describe(part, validate.errors![0]!);
            throw envelope.invalid(message, field ? { field } : undefined);
          }
        }
        await handler({ params: req.params, query: req.query, body: req.body } as Checked<R>, req, res);
        return;
      } catch (error) {
        next(error);
        return;
      }
    };
    router[schema.method](schema.path, ...before, run);
  };
}

/** What `mounter` returns: mounts one route with its schema checks. */
export type RouteMount = ReturnType<typeof mounter>;
