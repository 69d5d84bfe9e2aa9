import { Type } from '@sinclair/typebox';
import { route } from '../lib/route';
import { MAX_RESOURCE_SEGMENT } from '../kbs';

/**
 * The sidecar's routes, one schema each: Microsoft's request and 200 shapes plus our fields.
 * They validate requests (src/sidecar/app.ts) and are the sidecar's /openapi.json.
 */

/** What an upstream (the key service) answered when it refused or failed, cut and stripped of anything token-shaped. */
const Upstream = Type.Object({
  service: Type.Literal('kms'),
  status: Type.Integer({ minimum: 100, maximum: 599 }),
  code: Type.Optional(Type.String({ maxLength: 100 })),
  message: Type.Optional(Type.String({ maxLength: 501 })),
});

/** Microsoft's `{"error": message}` plus our stable code; a denial's explanation; an upstream's answer. */
export const SidecarError = Type.Object({
  error: Type.String(),
  code: Type.String({ pattern: '^[a-z0-9_]+$' }),
  details: Type.Optional(Type.Object({})),
  upstream: Type.Optional(Upstream),
});

const RuntimeData = Type.String({ contentEncoding: 'base64', description: 'base64 (standard or URL-safe) bytes; REPORT_DATA = SHA-256(bytes) ‖ 32 zero bytes' });
/** Absent, null or empty: the configured default; otherwise an https origin on the allow-list. */
const Endpoint = Type.Optional(Type.Union([Type.String(), Type.Null()]));
const KeyWrap = Type.Union([Type.Literal('CKM_RSA_AES_KEY_WRAP'), Type.Literal('RSA_AES_KEY_WRAP_256'), Type.Literal('RSA_AES_KEY_WRAP_384')]);

/** One segment of a KBS resource path (trustee's ResourceDesc), as long as the KBS accepts. */
const Segment = Type.String({ pattern: '^[A-Za-z0-9_-][A-Za-z0-9_.-]*$', maxLength: MAX_RESOURCE_SEGMENT });

const Status = Type.Object({ message: Type.String(), ready: Type.Boolean(), device: Type.String(), virtual: Type.Boolean(), checks: Type.Object({}) });

export const SIDECAR_ROUTES = {
  status: route({
    method: 'get',
    path: '/status',
    summary: 'Readiness: the TEE device and the checks beyond it',
    responses: { 200: { description: 'Ready', schema: Status }, 503: { description: 'Not ready', schema: Status } },
    errors: [],
  }),
  attestRaw: route({
    method: 'post',
    path: '/attest/raw',
    summary: 'A bare SNP report over the runtime data',
    body: Type.Object({ runtime_data: RuntimeData }),
    responses: { 200: { description: 'OK', schema: Type.Object({ report: Type.String({ pattern: '^[0-9a-f]{2368}$' }) }) } },
    errors: [400, 413, 502, 503],
  }),
  attestCombined: route({
    method: 'post',
    path: '/attest/combined',
    summary: 'A report with its certificate chain and UVM endorsements',
    body: Type.Object({ runtime_data: RuntimeData }),
    responses: {
      200: {
        description: 'OK',
        schema: Type.Object({ evidence: Type.String(), endorsements: Type.String(), uvm_endorsements: Type.String(), endorsed_tcb: Type.String({ pattern: '^[0-9a-f]{16}$' }) }),
      },
    },
    errors: [400, 413, 502, 503, 504],
  }),
  attestMaa: route({
    method: 'post',
    path: '/attest/maa',
    summary: 'An attestation token for the runtime data (a JSON object) from the verifier',
    body: Type.Object({ maa_endpoint: Endpoint, runtime_data: RuntimeData }),
    responses: { 200: { description: 'OK', schema: Type.Object({ token: Type.String() }) } },
    errors: [400, 403, 413, 502, 503, 504],
  }),
  keyRelease: route({
    method: 'post',
    path: '/key/release',
    summary: 'Releases a key into the TEE and returns it unwrapped',
    query: Type.Object({ format: Type.Optional(Type.String({ description: '`object` answers the JWK as an object rather than a JSON string' })) }),
    body: Type.Object({
      maa_endpoint: Endpoint,
      akv_endpoint: Endpoint,
      kid: Type.String({ pattern: '^[0-9A-Za-z-]{1,127}(/[0-9a-fA-F]{32})?$', description: 'a key name, optionally /<32-hex version>' }),
      access_token: Type.Optional(Type.String({ minLength: 1, maxLength: 16 * 1024 })),
      enc: Type.Optional(KeyWrap),
    }),
    responses: { 200: { description: 'OK', schema: Type.Object({ key: Type.Union([Type.String(), Type.Object({})]) }) } },
    errors: [400, 403, 404, 413, 502, 503, 504],
  }),
  cdhResource: route({
    method: 'get',
    path: '/cdh/resource/:repository/:type/:tag',
    summary: "A KBS resource's bytes, as guest-components' confidential-data-hub API server serves them",
    params: Type.Object({ repository: Segment, type: Segment, tag: Segment }),
    responses: { 200: { description: "The resource's raw bytes", contentType: 'application/octet-stream' } },
    errors: [400, 403, 404, 502, 503, 504],
  }),
  metrics: route({ method: 'get', path: '/metrics', summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' } }, errors: [] }),
  openapi: route({ method: 'get', path: '/openapi.json', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } }, errors: [] }),
};
