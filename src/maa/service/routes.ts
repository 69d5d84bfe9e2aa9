import { Type } from '@sinclair/typebox';
import { route } from '../../lib/route';

/**
 * The verifier's routes, one schema each: MAA's SEV-SNP attest endpoint and discovery, our
 * challenges and admin API. They validate requests (app.ts) and are the verifier's /openapi.json;
 * the evidence inside `report` is decoded and checked by decodeAttestRequest.
 */

/** MAA's error envelope: our stable code and a message. */
export const MaaError = Type.Object({ error: Type.Object({ code: Type.String({ pattern: '^[a-z0-9_]+$' }), message: Type.String() }) });

export const API_VERSIONS = ['2020-10-01', '2022-08-01', '2025-06-01'] as const;

/** `{data, dataType}`; Microsoft's sidecar sends `{"data":"","dataType":""}` for none. */
const TypedData = Type.Optional(Type.Union([Type.Object({ data: Type.Optional(Type.String()), dataType: Type.Optional(Type.String()) }), Type.Null()]));

const Jwks = Type.Object({ keys: Type.Array(Type.Object({ kty: Type.String(), kid: Type.String() })) });
const Reference = Type.Object({ kind: Type.String(), value: Type.String(), note: Type.Optional(Type.String()), addedAt: Type.String() });
/** The admin routes need `Authorization: Bearer <admin token>`. */
const adminErrors = [400, 401];
/** The reference-value routes answer 503 when a shared store (--store) does not answer. */
const referenceErrors = [...adminErrors, 503];

export const VERIFIER_ROUTES = {
  attest: route({
    method: 'post',
    path: '/attest/:type',
    summary: "MAA's attest endpoint: an RS256 token with the claims verified from the evidence",
    params: Type.Object({ type: Type.String({ pattern: '^[Ss][Ee][Vv][Ss][Nn][Pp][Vv][Mm]$', description: 'SevSnpVm, in any case' }) }),
    query: Type.Object({ 'api-version': Type.Union(API_VERSIONS.map((v) => Type.Literal(v))) }),
    body: Type.Object({
      report: Type.String({ description: 'base64url JSON {SnpReport, VcekCertChain, Endorsements?}' }),
      runtimeData: TypedData,
      initTimeData: TypedData,
      nonce: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Number(), Type.Null()], { description: 'a string or number, echoed in the token' })),
    }),
    responses: { 200: { description: 'Token', schema: Type.Object({ token: Type.String() }) } },
    errors: [400, 413, 502, 503],
  }),
  challenge: route({
    method: 'post',
    path: '/challenge',
    summary: 'A single-use nonce to bind into the next attestation',
    responses: { 200: { description: 'Nonce', schema: Type.Object({ nonce: Type.String(), expiresAt: Type.String() }) } },
    errors: [503],
  }),
  certs: route({ method: 'get', path: '/certs', summary: 'The token signing keys (JWKS with x5c)', responses: { 200: { description: 'JWKS', schema: Jwks } }, errors: [] }),
  discovery: route({
    method: 'get',
    path: '/.well-known/openid-configuration',
    summary: 'OpenID discovery',
    responses: { 200: { description: 'Discovery document', schema: Type.Object({ issuer: Type.String(), jwks_uri: Type.String() }) } },
    errors: [],
  }),
  listReferences: route({
    method: 'get',
    path: '/admin/refs',
    summary: 'Reference values (admin)',
    responses: { 200: { description: 'Reference values', schema: Type.Object({ references: Type.Array(Reference) }) } },
    errors: referenceErrors,
  }),
  addReference: route({
    method: 'post',
    path: '/admin/refs',
    summary: 'Adds a reference value (admin)',
    body: Type.Object({ kind: Type.String(), value: Type.String(), note: Type.Optional(Type.String({ maxLength: 1024 })) }),
    responses: { 201: { description: 'Added (or already there)', schema: Reference } },
    errors: [...referenceErrors, 413],
  }),
  removeReference: route({
    method: 'delete',
    path: '/admin/refs/:kind/:value',
    summary: 'Removes a reference value (admin)',
    params: Type.Object({ kind: Type.String(), value: Type.String() }),
    responses: { 204: { description: 'Removed' } },
    errors: [...referenceErrors, 404],
  }),
  rotateSigningKey: route({
    method: 'post',
    path: '/admin/signing-keys/rotate',
    summary: 'Rotates the token signing key (admin)',
    responses: { 200: { description: 'The new key', schema: Type.Object({ kid: Type.String() }) } },
    errors: adminErrors,
  }),
  appraiseBound: route({
    method: 'post',
    path: '/appraise/:type',
    summary: 'skr extension for the key broker: attest evidence whose REPORT_DATA another protocol defines (given as reportData)',
    params: Type.Object({ type: Type.String({ pattern: '^[Ss][Ee][Vv][Ss][Nn][Pp][Vv][Mm]$', description: 'SevSnpVm, in any case' }) }),
    query: Type.Object({ 'api-version': Type.Union(API_VERSIONS.map((v) => Type.Literal(v))) }),
    body: Type.Object({
      report: Type.String({ description: 'base64url JSON {SnpReport, VcekCertChain}, as for /attest' }),
      reportData: Type.String({ pattern: '^[0-9a-f]{128}$', description: 'the 64 bytes REPORT_DATA must hold, lowercase hex' }),
    }),
    responses: { 200: { description: 'Token', schema: Type.Object({ token: Type.String() }) } },
    errors: [400, 413, 502, 503],
  }),
  openapi: route({ method: 'get', path: '/openapi.json', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } }, errors: [] }),
};
