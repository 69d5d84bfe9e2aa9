/**
 * The sidecar's API as OpenAPI 3.1, served at /openapi.json; tests keep it in step with the
 * routes and with every status the hostile-input and fault tests see.
 */
/**
 * What an upstream (the key service) answered when it refused or failed: its HTTP status and,
 * from its Key Vault error body, its own code and message — cut to 500 characters, control
 * characters and anything token-shaped removed. 5xx upstream answers give the sidecar's 502
 * `upstream_failed`; 400 gives 400 `upstream_rejected`, 403 gives 403 `release_denied`, 429 503
 * `upstream_throttled`.
 */
const upstream = {
  type: 'object',
  required: ['service', 'status'],
  properties: {
    service: { type: 'string', enum: ['kms'] },
    status: { type: 'integer', minimum: 100, maximum: 599 },
    code: { type: 'string', maxLength: 100 },
    message: { type: 'string', maxLength: 501 },
  },
};
const error = {
  description: 'Error',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['error', 'code'],
        properties: { error: { type: 'string' }, code: { type: 'string' }, details: { type: 'object' }, upstream },
      },
    },
  },
};
const runtimeData = {
  required: true,
  content: { 'application/json': { schema: { type: 'object', required: ['runtime_data'], properties: { runtime_data: { type: 'string', contentEncoding: 'base64' } } } } },
};
const json = (properties: Record<string, unknown>, required: string[]) => ({
  description: 'OK',
  content: { 'application/json': { schema: { type: 'object', required, properties } } },
});

export const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'skr secure key release sidecar', version: '1.0.0', description: "Drop-in for Microsoft's confidential-sidecar-containers SKR API." },
  paths: {
    '/status': {
      get: { responses: { 200: json({ message: { type: 'string' }, ready: { type: 'boolean' }, device: { type: 'string' }, virtual: { type: 'boolean' } }, ['message']), 503: json({ message: { type: 'string' } }, ['message']) } },
    },
    '/attest/raw': {
      post: { requestBody: runtimeData, responses: { 200: json({ report: { type: 'string', pattern: '^[0-9a-f]{2368}$' } }, ['report']), 400: error, 413: error, 502: error, 503: error } },
    },
    '/attest/combined': {
      post: {
        requestBody: runtimeData,
        responses: {
          200: json({ evidence: { type: 'string' }, endorsements: { type: 'string' }, uvm_endorsements: { type: 'string' }, endorsed_tcb: { type: 'string' } }, ['evidence', 'endorsements', 'endorsed_tcb']),
          400: error,
          413: error,
          502: error,
          503: error,
          504: error,
        },
      },
    },
    '/attest/maa': {
      post: {
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', required: ['runtime_data'], properties: { maa_endpoint: { type: 'string' }, runtime_data: { type: 'string' } } } } },
        },
        responses: { 200: json({ token: { type: 'string' } }, ['token']), 400: error, 403: error, 413: error, 502: error, 503: error, 504: error },
      },
    },
    '/key/release': {
      post: {
        parameters: [{ name: 'format', in: 'query', required: false, schema: { enum: ['object'] } }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['kid'],
                properties: {
                  maa_endpoint: { type: 'string' },
                  akv_endpoint: { type: 'string' },
                  kid: { type: 'string' },
                  access_token: { type: 'string' },
                  enc: { enum: ['CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384'] },
                },
              },
            },
          },
        },
        responses: { 200: json({ key: { oneOf: [{ type: 'string' }, { type: 'object' }] } }, ['key']), 400: error, 403: error, 404: error, 413: error, 502: error, 503: error, 504: error },
      },
    },
    '/metrics': { get: { responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': {} } } } } },
    '/openapi.json': { get: { responses: { 200: { description: 'This document', content: { 'application/json': {} } } } } },
  },
} as const;
