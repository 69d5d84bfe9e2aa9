import type { TObject, TSchema } from '@sinclair/typebox';
import type { RouteSchema } from './route';

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: OpenApiInfo;
  /** Path, then method, then the operation object. */
  paths: Record<string, Record<string, { responses: Record<string, unknown> } & Record<string, unknown>>>;
  components: { schemas: Record<string, unknown> };
}

/** Express's `:name` segments as OpenAPI's `{name}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** A JSON copy: the schemas' TypeBox symbols and undefined members do not belong in the document. */
const plain = (schema: TSchema): unknown => JSON.parse(JSON.stringify(schema));

function parameters(where: 'path' | 'query', schema: TObject | undefined): unknown[] {
  if (!schema) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, property]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: plain(property) }));
}

/**
 * A service's OpenAPI 3.1 document, built from the same route schemas that validate its
 * requests: one source, so the document cannot drift from what the service checks and answers.
 */
export function openApiDocument(info: OpenApiInfo, routes: readonly RouteSchema[], errorSchema: TSchema): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const error = { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(r.responses)) {
      const media = answer.schema ? { 'application/json': { schema: plain(answer.schema) } } : answer.contentType ? { [answer.contentType]: {} } : undefined;
      responses[status] = { description: answer.description, ...(media ? { content: media } : {}) };
    }
    for (const status of r.errors) responses[String(status)] = error;
    const params = [...parameters('path', r.params), ...parameters('query', r.query)];
    (paths[openApiPath(r.path)] ??= {})[r.method] = {
      summary: r.summary,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: plain(r.body) } } } } : {}),
      responses,
    };
  }
  return { openapi: '3.1.0', info, paths, components: { schemas: { Error: plain(errorSchema) } } };
}
