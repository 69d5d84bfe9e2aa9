import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createIdentityApp, startIdentity, type RunningIdentity } from '../../src/identity';
import { IDENTITY_OPENAPI } from '../../src/identity/app';
import { createKmsApp, KMS_OPENAPI } from '../../src/kms/app';
import type { KmsHttpContext } from '../../src/kms/routes/context';
import type { OpenApiDocument } from '../../src/lib/openapi';
import { createVerifierApp, VERIFIER_OPENAPI } from '../../src/maa/service/app';
import type { RunningVerifier } from '../../src/maa/service/server';
import { uvmIssuer } from '../../src/maa/uvm';
import { createSidecarApp } from '../../src/sidecar/app';
import { SIDECAR_OPENAPI } from '../../src/sidecar/openapi';
import type { RunningSidecar } from '../../src/sidecar/server';
import { tempStateDir } from '../identity/harness';
import { startStack, type Stack } from '../kms/harness';
import { raw, type RawResponse } from '../kms/raw';
import { startTestVerifier } from '../maa/verifier-harness';
import { startTestSidecar, virtualState } from '../sidecar/harness';
import { documentedRoutes, openApiErrors, servedRoutes, undocumentedAnswer } from './openapi-conformance';
import { goodRuntimeKeys } from './runtime-keys';

/**
 * The four services' /openapi.json documents, each built from the route schemas that validate
 * its requests: valid OpenAPI 3.1, listing exactly the routes each app mounts. The KMS's
 * answers are checked against its document here; the others' in their own openapi tests.
 */

let verifier: RunningVerifier;
let sidecar: RunningSidecar;
let identity: RunningIdentity;
let identityState: Awaited<ReturnType<typeof tempStateDir>>;
let stack: Stack;
let officerToken: string;

beforeAll(async () => {
  const state = await virtualState();
  verifier = await startTestVerifier({ trustedRoots: [state.root], trustedUvmIssuers: [uvmIssuer(state.uvm.issuer.did, state.uvm.issuer.feed)] });
  sidecar = await startTestSidecar({ 'state-dir': state.stateDir, 'maa-endpoint': verifier.url });
  identityState = await tempStateDir();
  identity = await startIdentity({ stateDir: identityState.dir, principals: [] });
  stack = await startStack({ bodyLimit: '64kb' });
  officerToken = await stack.issuer.mint({ oid: stack.officer });
});

afterAll(async () => {
  await stack?.close();
  await identity?.close();
  await identityState?.remove();
  await sidecar?.close();
  await verifier?.close();
});

/** Mounting reads only these parts of the KMS's context; no request reaches the app. */
const kmsRoutesOnly = { adminToken: 'unused', authority: 'https://unused.example', resource: 'https://vault.azure.net', bodyLimit: '1mb' } as KmsHttpContext;

interface Service {
  document: OpenApiDocument;
  /** The document as the running service serves it. */
  served(): Promise<unknown>;
  /** `METHOD /path` of every route the service's Express app mounts. */
  mounted(): string[];
}

const SERVICES: Record<string, () => Service> = {
  sidecar: () => ({ document: SIDECAR_OPENAPI, served: async () => (await request(sidecar.url).get('/openapi.json')).body, mounted: () => servedRoutes(createSidecarApp(sidecar.context)) }),
  verifier: () => ({ document: VERIFIER_OPENAPI, served: async () => (await request(verifier.url).get('/openapi.json')).body, mounted: () => servedRoutes(createVerifierApp(verifier.context)) }),
  identity: () => ({
    document: IDENTITY_OPENAPI,
    served: async () => (await request(createIdentityApp(identity.context)).get('/openapi.json')).body,
    mounted: () => servedRoutes(createIdentityApp(identity.context)),
  }),
  kms: () => ({
    document: KMS_OPENAPI,
    served: async () => (await raw(stack.kms.url, stack.kms.caPem, 'GET', '/openapi.json', { token: officerToken })).body,
    mounted: () => servedRoutes(createKmsApp(kmsRoutesOnly)),
  }),
};

describe.each(Object.keys(SERVICES))('the %s OpenAPI document', (name) => {
  test('is served, and is valid OpenAPI 3.1', async () => {
    const service = SERVICES[name]!();
    expect(await service.served()).toEqual(service.document);
    expect(await openApiErrors(service.document)).toBeUndefined();
  });

  test('lists exactly the routes the app mounts', () => {
    const service = SERVICES[name]!();
    expect(documentedRoutes(service.document)).toEqual(service.mounted());
  });

  test('declares 400 on every route whose request a schema checks (the mounter refuses what breaks it)', () => {
    const { document } = SERVICES[name]!();
    const undeclared = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, op]) => (op.parameters !== undefined || op.requestBody !== undefined) && !('400' in op.responses))
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(undeclared).toEqual([]);
  });
});

describe('the KMS answers as its OpenAPI document says', () => {
  const API = '?api-version=7.6';
  /** Keys and a role assignment the cases below act on, made through the API itself. */
  type Caller = 'officer' | 'nobody' | 'anonymous' | 'admin';
  const made = { version: '', ecVersion: '', backup: '', roleId: '', secretVersion: '', secretBackup: '' };
  let nobodyToken: string;
  let runtimeKey: ReturnType<typeof goodRuntimeKeys>[string];
  /** `METHOD /route` of every case run, to show no documented route goes untried. */
  const exercised = new Set<string>();

  const send = (method: string, path: string, body?: unknown, as: Caller = 'officer'): Promise<RawResponse> => {
    const token = { officer: officerToken, nobody: nobodyToken, anonymous: undefined, admin: stack.kms.adminToken }[as];
    return raw(stack.kms.url, stack.kms.caPem, method, path, {
      ...(token === undefined ? {} : { token }),
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  };
  const ok = async (method: string, path: string, body?: unknown): Promise<RawResponse> => {
    const res = await send(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };

  beforeAll(async () => {
    nobodyToken = await stack.issuer.mint({ oid: `nobody-${randomBytes(4).toString('hex')}` });
    runtimeKey = goodRuntimeKeys()['RSA-2048']!;
    const policy = { version: '1.0.0', anyOf: [{ authority: stack.issuer.url, allOf: [{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }] };
    const oct = await ok('POST', `/keys/conf/create${API}`, {
      kty: 'oct-HSM',
      key_size: 256,
      attributes: { exportable: true },
      release_policy: { data: Buffer.from(JSON.stringify(policy)).toString('base64url') },
    });
    made.version = String(oct.body.key.kid).split('/').pop()!;
    made.ecVersion = String((await ok('POST', `/keys/conf-ec/create${API}`, { kty: 'EC', crv: 'P-256' })).body.key.kid)
      .split('/')
      .pop()!;
    for (const name of ['conf-delete', 'conf-deleted-get', 'conf-deleted-recover', 'conf-deleted-purge', 'conf-restore']) await ok('POST', `/keys/${name}/create${API}`, { kty: 'oct' });
    for (const name of ['conf-deleted-get', 'conf-deleted-recover', 'conf-deleted-purge']) await ok('DELETE', `/keys/${name}${API}`);
    made.backup = (await ok('POST', `/keys/conf-restore/backup${API}`)).body.value;
    await ok('DELETE', `/keys/conf-restore${API}`);
    await ok('DELETE', `/deletedkeys/conf-restore${API}`);
    made.roleId = (await send('POST', '/admin/roles', { principal: 'conf-role', role: 'crypto-user' }, 'admin')).body.id;
    stack.kms.roles.add(stack.officer, 'secrets-officer');
    made.secretVersion = String((await ok('PUT', `/secrets/conf-secret${API}`, { value: 'v' })).body.id)
      .split('/')
      .pop()!;
    for (const name of ['conf-secret-delete', 'conf-secret-deleted-get', 'conf-secret-deleted-recover', 'conf-secret-deleted-purge', 'conf-secret-restore'])
      await ok('PUT', `/secrets/${name}${API}`, { value: name });
    for (const name of ['conf-secret-deleted-get', 'conf-secret-deleted-recover', 'conf-secret-deleted-purge']) await ok('DELETE', `/secrets/${name}${API}`);
    made.secretBackup = (await ok('POST', `/secrets/conf-secret-restore/backup${API}`)).body.value;
    await ok('DELETE', `/secrets/conf-secret-restore${API}`);
    await ok('DELETE', `/deletedsecrets/conf-secret-restore${API}`);
  });

  interface Exchange {
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    /** The documented route the request exercises. */
    route: string;
    url: string;
    body?: unknown;
    as?: Caller;
  }
  const b64 = (n: number) => randomBytes(n).toString('base64url');
  const target = () => stack.issuer.mint({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ ...runtimeKey, kid: 'tee', key_ops: ['encrypt'] }] } });

  const cases: [string, number, () => Promise<Exchange> | Exchange][] = [
    ['list keys', 200, () => ({ method: 'GET', route: '/keys', url: `/keys${API}&maxresults=1` })],
    ['list keys without api-version', 400, () => ({ method: 'GET', route: '/keys', url: '/keys' })],
    ['list keys with an unpublished api-version', 400, () => ({ method: 'GET', route: '/keys', url: '/keys?api-version=7.7' })],
    ['list keys with maxresults 0', 400, () => ({ method: 'GET', route: '/keys', url: `/keys${API}&maxresults=0` })],
    ['list keys with a $skiptoken that is not base64url', 400, () => ({ method: 'GET', route: '/keys', url: `/keys${API}&$skiptoken=***` })],
    ['list keys without a token', 401, () => ({ method: 'GET', route: '/keys', url: `/keys${API}`, as: 'anonymous' })],
    ['list keys without a role', 403, () => ({ method: 'GET', route: '/keys', url: `/keys${API}`, as: 'nobody' })],
    ['create', 200, () => ({ method: 'POST', route: '/keys/{name}/create', url: `/keys/conf-new/create${API}`, body: { kty: 'RSA', key_size: 2048, tags: { team: 'a' } } })],
    ['create with a name outside the alphabet', 400, () => ({ method: 'POST', route: '/keys/{name}/create', url: `/keys/bad_name/create${API}`, body: { kty: 'oct' } })],
    ['create with an unknown kty', 400, () => ({ method: 'POST', route: '/keys/{name}/create', url: `/keys/conf-x/create${API}`, body: { kty: 'DSA' } })],
    [
      'create with 16 tags',
      400,
      () => ({ method: 'POST', route: '/keys/{name}/create', url: `/keys/conf-x/create${API}`, body: { kty: 'oct', tags: Object.fromEntries([...Array(16).keys()].map((i) => [`t${i}`, 'v'])) } }),
    ],
    ['create with a body that is not JSON', 400, () => ({ method: 'POST', route: '/keys/{name}/create', url: `/keys/conf-x/create${API}`, body: '{"kty":' })],
    ['create with a body over the limit', 413, () => ({ method: 'POST', route: '/keys/{name}/create', url: `/keys/conf-x/create${API}`, body: { kty: 'oct', tags: { a: 'x'.repeat(70_000) } } })],
    ['create without a role, even with a bad body', 403, () => ({ method: 'POST', route: '/keys/{name}/create', url: `/keys/conf-x/create${API}`, body: { kty: 5 }, as: 'nobody' })],
    ['create under a deleted name', 409, () => ({ method: 'POST', route: '/keys/{name}/create', url: `/keys/conf-deleted-get/create${API}`, body: { kty: 'oct' } })],
    ['import', 200, () => ({ method: 'PUT', route: '/keys/{name}', url: `/keys/conf-imported${API}`, body: { key: { kty: 'oct', k: b64(32) }, hsm: true } })],
    ['import without a key', 400, () => ({ method: 'PUT', route: '/keys/{name}', url: `/keys/conf-imported${API}`, body: { hsm: true } })],
    ['versions', 200, () => ({ method: 'GET', route: '/keys/{name}/versions', url: `/keys/conf/versions${API}` })],
    ['versions of an unknown key', 404, () => ({ method: 'GET', route: '/keys/{name}/versions', url: `/keys/conf-none/versions${API}` })],
    ['rotate', 200, () => ({ method: 'POST', route: '/keys/{name}/rotate', url: `/keys/conf-ec/rotate${API}` })],
    ['rotate an unknown key', 404, () => ({ method: 'POST', route: '/keys/{name}/rotate', url: `/keys/conf-none/rotate${API}` })],
    ['rotation policy (default)', 200, () => ({ method: 'GET', route: '/keys/{name}/rotationpolicy', url: `/keys/conf/rotationpolicy${API}` })],
    [
      'set the rotation policy',
      200,
      () => ({
        method: 'PUT',
        route: '/keys/{name}/rotationpolicy',
        url: `/keys/conf-ec/rotationpolicy${API}`,
        body: { lifetimeActions: [{ trigger: { timeAfterCreate: 'P30D' }, action: { type: 'Rotate' } }], attributes: { expiryTime: 'P90D' } },
      }),
    ],
    [
      'set a rotation policy whose actions are not a list',
      400,
      () => ({ method: 'PUT', route: '/keys/{name}/rotationpolicy', url: `/keys/conf-ec/rotationpolicy${API}`, body: { lifetimeActions: 'rotate' } }),
    ],
    ['get', 200, () => ({ method: 'GET', route: '/keys/{name}', url: `/keys/conf${API}` })],
    ['get an unknown key', 404, () => ({ method: 'GET', route: '/keys/{name}', url: `/keys/conf-none${API}` })],
    ['get a version', 200, () => ({ method: 'GET', route: '/keys/{name}/{version}', url: `/keys/conf/${made.version}${API}` })],
    ['get a version that is not one', 404, () => ({ method: 'GET', route: '/keys/{name}/{version}', url: `/keys/conf/not-a-version${API}` })],
    ['update', 200, () => ({ method: 'PATCH', route: '/keys/{name}', url: `/keys/conf-ec${API}`, body: { tags: { a: 'b' }, attributes: { enabled: true } } })],
    ['update with enabled as a string', 400, () => ({ method: 'PATCH', route: '/keys/{name}', url: `/keys/conf-ec${API}`, body: { attributes: { enabled: 'yes' } } })],
    ['update a version', 200, () => ({ method: 'PATCH', route: '/keys/{name}/{version}', url: `/keys/conf-ec/${made.ecVersion}${API}`, body: { key_ops: ['sign', 'verify'] } })],
    ['delete', 200, () => ({ method: 'DELETE', route: '/keys/{name}', url: `/keys/conf-delete${API}` })],
    ['delete an unknown key', 404, () => ({ method: 'DELETE', route: '/keys/{name}', url: `/keys/conf-none${API}` })],
    ['list deleted keys', 200, () => ({ method: 'GET', route: '/deletedkeys', url: `/deletedkeys${API}` })],
    ['get a deleted key', 200, () => ({ method: 'GET', route: '/deletedkeys/{name}', url: `/deletedkeys/conf-deleted-get${API}` })],
    ['get a key that is not deleted', 404, () => ({ method: 'GET', route: '/deletedkeys/{name}', url: `/deletedkeys/conf${API}` })],
    ['recover', 200, () => ({ method: 'POST', route: '/deletedkeys/{name}/recover', url: `/deletedkeys/conf-deleted-recover/recover${API}` })],
    ['purge', 204, () => ({ method: 'DELETE', route: '/deletedkeys/{name}', url: `/deletedkeys/conf-deleted-purge${API}` })],
    ['encrypt', 200, () => ({ method: 'POST', route: '/keys/{name}/encrypt', url: `/keys/conf/encrypt${API}`, body: { alg: 'A256GCM', value: b64(16) } })],
    ['encrypt with a version', 200, () => ({ method: 'POST', route: '/keys/{name}/{version}/encrypt', url: `/keys/conf/${made.version}/encrypt${API}`, body: { alg: 'A256GCM', value: b64(16) } })],
    ["encrypt with the SDK's empty version segment", 200, () => ({ method: 'POST', route: '/keys/{name}/encrypt', url: `/keys/conf//encrypt${API}`, body: { alg: 'A256GCM', value: b64(16) } })],
    ['decrypt without a value', 400, () => ({ method: 'POST', route: '/keys/{name}/decrypt', url: `/keys/conf/decrypt${API}`, body: { alg: 'A256GCM' } })],
    [
      'decrypt with a version and a value that is not base64url',
      400,
      () => ({ method: 'POST', route: '/keys/{name}/{version}/decrypt', url: `/keys/conf/${made.version}/decrypt${API}`, body: { alg: 'A256GCM', value: '!!' } }),
    ],
    ['wrap', 200, () => ({ method: 'POST', route: '/keys/{name}/wrapkey', url: `/keys/conf/wrapkey${API}`, body: { alg: 'A256KW', value: b64(32) } })],
    ['wrap an empty key', 400, () => ({ method: 'POST', route: '/keys/{name}/{version}/wrapkey', url: `/keys/conf/${made.version}/wrapkey${API}`, body: { alg: 'A256KW', value: '' } })],
    ['unwrap an empty key', 400, () => ({ method: 'POST', route: '/keys/{name}/unwrapkey', url: `/keys/conf/unwrapkey${API}`, body: { alg: 'A256KW', value: '' } })],
    [
      'unwrap with a version on an unknown key',
      404,
      () => ({ method: 'POST', route: '/keys/{name}/{version}/unwrapkey', url: `/keys/conf-none/${made.version}/unwrapkey${API}`, body: { alg: 'A256KW', value: b64(40) } }),
    ],
    ['sign', 200, () => ({ method: 'POST', route: '/keys/{name}/sign', url: `/keys/conf-ec/sign${API}`, body: { alg: 'ES256', value: b64(32) } })],
    ['sign with a key that may not', 403, () => ({ method: 'POST', route: '/keys/{name}/{version}/sign', url: `/keys/conf/${made.version}/sign${API}`, body: { alg: 'ES256', value: b64(32) } })],
    [
      'verify a signature that does not verify',
      200,
      () => ({ method: 'POST', route: '/keys/{name}/verify', url: `/keys/conf-ec/verify${API}`, body: { alg: 'ES256', digest: b64(32), value: b64(64) } }),
    ],
    ['verify without a digest', 400, () => ({ method: 'POST', route: '/keys/{name}/{version}/verify', url: `/keys/conf-ec/${made.ecVersion}/verify${API}`, body: { alg: 'ES256', value: b64(64) } })],
    ['backup', 200, () => ({ method: 'POST', route: '/keys/{name}/backup', url: `/keys/conf-ec/backup${API}` })],
    ['restore', 200, () => ({ method: 'POST', route: '/keys/restore', url: `/keys/restore${API}`, body: { value: made.backup } })],
    ['restore a key that exists', 409, () => ({ method: 'POST', route: '/keys/restore', url: `/keys/restore${API}`, body: { value: made.backup } })],
    ['restore without a value', 400, () => ({ method: 'POST', route: '/keys/restore', url: `/keys/restore${API}`, body: {} })],
    ['release', 200, async () => ({ method: 'POST', route: '/keys/{name}/release', url: `/keys/conf/release${API}`, body: { target: await target() } })],
    [
      'release a version',
      200,
      async () => ({ method: 'POST', route: '/keys/{name}/{version}/release', url: `/keys/conf/${made.version}/release${API}`, body: { target: await target(), nonce: 'n' } }),
    ],
    ['release without a target', 400, () => ({ method: 'POST', route: '/keys/{name}/release', url: `/keys/conf/release${API}`, body: { nonce: 'n' } })],
    ['release with a nonce that is not a string', 400, async () => ({ method: 'POST', route: '/keys/{name}/release', url: `/keys/conf/release${API}`, body: { target: await target(), nonce: 7 } })],
    ['release an unknown key', 404, async () => ({ method: 'POST', route: '/keys/{name}/release', url: `/keys/conf-none/release${API}`, body: { target: await target() } })],
    ['list secrets', 200, () => ({ method: 'GET', route: '/secrets', url: `/secrets${API}&maxresults=1` })],
    ['list secrets without a role', 403, () => ({ method: 'GET', route: '/secrets', url: `/secrets${API}`, as: 'nobody' })],
    [
      'set a secret',
      200,
      () => ({ method: 'PUT', route: '/secrets/{name}', url: `/secrets/conf-secret-new${API}`, body: { value: 's', contentType: 'text/plain', tags: { a: 'b' }, attributes: { enabled: true } } }),
    ],
    ['set a secret without a value', 400, () => ({ method: 'PUT', route: '/secrets/{name}', url: `/secrets/conf-secret-new${API}`, body: { contentType: 'text/plain' } })],
    ['set a secret under a name outside the alphabet', 400, () => ({ method: 'PUT', route: '/secrets/{name}', url: `/secrets/bad_name${API}`, body: { value: 's' } })],
    ['set a secret under a deleted name', 409, () => ({ method: 'PUT', route: '/secrets/{name}', url: `/secrets/conf-secret-deleted-get${API}`, body: { value: 's' } })],
    ['secret versions', 200, () => ({ method: 'GET', route: '/secrets/{name}/versions', url: `/secrets/conf-secret/versions${API}` })],
    ['versions of an unknown secret', 404, () => ({ method: 'GET', route: '/secrets/{name}/versions', url: `/secrets/conf-none/versions${API}` })],
    ['get a secret', 200, () => ({ method: 'GET', route: '/secrets/{name}', url: `/secrets/conf-secret${API}` })],
    ["get a secret with the SDK's empty version segment", 200, () => ({ method: 'GET', route: '/secrets/{name}', url: `/secrets/conf-secret/${API}` })],
    ['get an unknown secret', 404, () => ({ method: 'GET', route: '/secrets/{name}', url: `/secrets/conf-none${API}` })],
    ['get a secret version', 200, () => ({ method: 'GET', route: '/secrets/{name}/{version}', url: `/secrets/conf-secret/${made.secretVersion}${API}` })],
    ['get a secret version that is not one', 404, () => ({ method: 'GET', route: '/secrets/{name}/{version}', url: `/secrets/conf-secret/not-a-version${API}` })],
    ['update a secret version', 200, () => ({ method: 'PATCH', route: '/secrets/{name}/{version}', url: `/secrets/conf-secret/${made.secretVersion}${API}`, body: { tags: { a: 'b' } } })],
    [
      'update a secret version with enabled as a string',
      400,
      () => ({ method: 'PATCH', route: '/secrets/{name}/{version}', url: `/secrets/conf-secret/${made.secretVersion}${API}`, body: { attributes: { enabled: 'yes' } } }),
    ],
    ['delete a secret', 200, () => ({ method: 'DELETE', route: '/secrets/{name}', url: `/secrets/conf-secret-delete${API}` })],
    ['delete an unknown secret', 404, () => ({ method: 'DELETE', route: '/secrets/{name}', url: `/secrets/conf-none${API}` })],
    ['list deleted secrets', 200, () => ({ method: 'GET', route: '/deletedsecrets', url: `/deletedsecrets${API}` })],
    ['get a deleted secret', 200, () => ({ method: 'GET', route: '/deletedsecrets/{name}', url: `/deletedsecrets/conf-secret-deleted-get${API}` })],
    ['get a secret that is not deleted', 404, () => ({ method: 'GET', route: '/deletedsecrets/{name}', url: `/deletedsecrets/conf-secret${API}` })],
    ['recover a secret', 200, () => ({ method: 'POST', route: '/deletedsecrets/{name}/recover', url: `/deletedsecrets/conf-secret-deleted-recover/recover${API}` })],
    ['purge a secret', 204, () => ({ method: 'DELETE', route: '/deletedsecrets/{name}', url: `/deletedsecrets/conf-secret-deleted-purge${API}` })],
    ['back up a secret', 200, () => ({ method: 'POST', route: '/secrets/{name}/backup', url: `/secrets/conf-secret/backup${API}` })],
    ['restore a secret', 200, () => ({ method: 'POST', route: '/secrets/restore', url: `/secrets/restore${API}`, body: { value: made.secretBackup } })],
    ['restore a secret that exists', 409, () => ({ method: 'POST', route: '/secrets/restore', url: `/secrets/restore${API}`, body: { value: made.secretBackup } })],
    ['restore a key backup as a secret', 400, () => ({ method: 'POST', route: '/secrets/restore', url: `/secrets/restore${API}`, body: { value: made.backup } })],
    ['rng', 200, () => ({ method: 'POST', route: '/rng', url: `/rng${API}`, body: { count: 16 } })],
    ['rng over 128 bytes', 400, () => ({ method: 'POST', route: '/rng', url: `/rng${API}`, body: { count: 129 } })],
    ['list roles', 200, () => ({ method: 'GET', route: '/admin/roles', url: '/admin/roles?principal=conf-role', as: 'admin' })],
    ["list roles with a principal's token", 401, () => ({ method: 'GET', route: '/admin/roles', url: '/admin/roles' })],
    ['add a role', 201, () => ({ method: 'POST', route: '/admin/roles', url: '/admin/roles', body: { principal: 'conf-other', role: 'crypto-user', scope: '/keys/conf' }, as: 'admin' })],
    ['add a role without one', 400, () => ({ method: 'POST', route: '/admin/roles', url: '/admin/roles', body: { principal: 'conf-other' }, as: 'admin' })],
    ['add a role that does not exist', 400, () => ({ method: 'POST', route: '/admin/roles', url: '/admin/roles', body: { principal: 'conf-other', role: 'emperor' }, as: 'admin' })],
    ['remove a role', 204, () => ({ method: 'DELETE', route: '/admin/roles/{id}', url: `/admin/roles/${made.roleId}`, as: 'admin' })],
    ['remove a role that is not there', 404, () => ({ method: 'DELETE', route: '/admin/roles/{id}', url: '/admin/roles/none', as: 'admin' })],
    ['query the audit log', 200, () => ({ method: 'GET', route: '/admin/audit', url: '/admin/audit?key=conf&decision=allow&limit=5&since=0', as: 'admin' })],
    ['query the audit log with limit 0', 400, () => ({ method: 'GET', route: '/admin/audit', url: '/admin/audit?limit=0', as: 'admin' })],
    ['query the audit log for an unknown decision', 400, () => ({ method: 'GET', route: '/admin/audit', url: '/admin/audit?decision=maybe', as: 'admin' })],
    ['the document', 200, () => ({ method: 'GET', route: '/openapi.json', url: '/openapi.json' })],
    ['the document without a token', 401, () => ({ method: 'GET', route: '/openapi.json', url: '/openapi.json', as: 'anonymous' })],
    ['readiness, without a token', 200, () => ({ method: 'GET', route: '/ready', url: '/ready', as: 'anonymous' })],
  ];

  test.each(cases)('%s: %i', async (_name, status, exchange) => {
    const { method, route, url, body, as = 'officer' } = await exchange();
    exercised.add(`${method} ${route}`);
    const res = await send(method, url, body, as);
    expect({ status: res.status, body: res.status === status ? undefined : res.body }).toEqual({ status, body: undefined });
    expect(undocumentedAnswer(KMS_OPENAPI, method, route, res.status, res.body)).toBeUndefined();
  });

  test('every documented KMS route is exercised above', () => {
    expect(documentedRoutes(KMS_OPENAPI).filter((r) => !exercised.has(r))).toEqual([]);
  });

  test("a schema violation is Key Vault's BadParameter naming the field, and the refusal is audited", async () => {
    // A caller of its own: the officer's many refusals above are past the per-caller bound, counted rather than stored.
    const who = `conf-writer-${randomBytes(4).toString('hex')}`;
    stack.kms.roles.add(who, 'crypto-officer');
    const res = await raw(stack.kms.url, stack.kms.caPem, 'POST', `/keys/conf-field/create${API}`, {
      token: await stack.issuer.mint({ oid: who }),
      body: JSON.stringify({ kty: 'oct', attributes: { nbf: 'soon' } }),
    });
    expect(res.body).toEqual({ error: { code: 'BadParameter', message: 'attributes.nbf must be integer', innererror: { code: 'bad_parameter' } } });
    // Newest first: the refusal, then the intent committed before the request was checked.
    expect(await stack.kms.audit.query({ principal: who })).toEqual([
      expect.objectContaining({ operation: 'create', route: '/keys/:name/create', key: 'conf-field', decision: 'error', status: 400, reason: 'bad_parameter: attributes.nbf must be integer' }),
      expect.objectContaining({ operation: 'create', key: 'conf-field', decision: 'intent' }),
    ]);
  });
});
