import Ajv2020 from 'ajv/dist/2020';
import { execFile } from 'node:child_process';
import type { Express } from 'express';
import type { OpenApiDocument } from '../../src/lib/openapi';
import { openApiPath } from '../../src/lib/openapi';

/**
 * Checks shared by every service's OpenAPI test: the document is valid OpenAPI, it lists
 * exactly the routes the app serves, and each answer a test sees has a documented status and
 * a body that matches the documented schema.
 */

/**
 * The validator's schema errors for `doc`, or undefined when it is valid OpenAPI. The validator
 * is an ES module, which jest's CommonJS runtime cannot load, so a child Node runs it.
 */
export function openApiErrors(doc: OpenApiDocument): Promise<unknown> {
  const script = `import { Validator } from '@seriousme/openapi-schema-validator';
let text = ''; for await (const c of process.stdin) text += c;
const r = await new Validator().validate(JSON.parse(text));
process.stdout.write(JSON.stringify(r.valid ? null : r.errors));`;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: __dirname }, (error, stdout) => {
      if (error) return reject(error);
      return resolve(JSON.parse(stdout) ?? undefined);
    });
    child.stdin!.end(JSON.stringify(doc));
  });
}

/** `METHOD /path` for every route the Express app has mounted, in OpenAPI's path syntax. */
export function servedRoutes(app: Express): string[] {
  const stack = (app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router.stack;
  return stack
    .flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods)
            .filter((m) => m !== '_all')
            .map((m) => `${m.toUpperCase()} ${openApiPath(layer.route!.path)}`)
        : [],
    )
    .sort();
}

export function documentedRoutes(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

const ajv = new Ajv2020({ strict: false });

/**
 * The answer's status must be listed for the route and, where the document gives a JSON
 * schema, its body must match it. Returns what is wrong, or undefined.
 */
export function undocumentedAnswer(doc: OpenApiDocument, method: string, path: string, status: number, body: unknown): string | undefined {
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (!operation) return `${method} ${path} is not documented`;
  const response = operation.responses[String(status)] as { content?: Record<string, { schema?: unknown }> } | undefined;
  if (!response) return `${method} ${path} answered ${status}, which is not documented (${Object.keys(operation.responses).join(', ')})`;
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return undefined;
  const validate = ajv.compile({ ...(schema as object), components: doc.components });
  return validate(body) ? undefined : `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`;
}
