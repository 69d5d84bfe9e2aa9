import { KmsBadParameter } from '../../errors';
import { CURVES, isCurveName } from '../keys/curves';
import { generateMaterial, type GenerateSpec } from '../keys/generate';
import { materialFromJwk, OCT_SIZES, RSA_SIZES } from '../keys/import-jwk';
import { parseKeyOps } from '../keys/key-ops';
import { publicJwkOf } from '../keys/public-jwk';
import { familyOf, type KeyAttributes, type KeyFamily, type KeyMaterial, type KeyVersion, type Page } from '../model';
import { checkName, optionalBoolean, optionalInteger, optionalString, parseAttributes, parseReleasePolicy, parseTags, type AttributesInput, type Body } from '../wire/fields';
import type { KmsCore } from './core';
import { checkExportable, resolveReleasePolicy } from './release-policy';

const KTYS = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM', 'oct', 'oct-HSM'];

function newAttributes(input: AttributesInput, now: number): KeyAttributes {
  return { enabled: input.enabled ?? true, nbf: input.nbf, exp: input.exp, exportable: input.exportable ?? false, created: now, updated: now };
}

function generateSpec(family: KeyFamily, b: Body): GenerateSpec {
  switch (family) {
    case 'RSA': {
      const keySize = optionalInteger(b, 'key_size') ?? 2048;
      if (!RSA_SIZES.includes(keySize)) throw new KmsBadParameter(`key_size of an RSA key must be ${RSA_SIZES.join(', ')}`);
      const publicExponent = optionalInteger(b, 'public_exponent', 3, 2 ** 32 - 1) ?? 65537;
      if (publicExponent % 2 === 0) throw new KmsBadParameter('public_exponent must be odd');
      return { family, keySize, publicExponent };
    }
    case 'EC': {
      const crv = optionalString(b, 'crv') ?? 'P-256';
      if (!isCurveName(crv)) throw new KmsBadParameter(`crv must be one of ${Object.keys(CURVES).join(', ')}`);
      return { family, curve: crv };
    }
    case 'oct': {
      const keySize = optionalInteger(b, 'key_size') ?? 256;
      if (!OCT_SIZES.includes(keySize)) throw new KmsBadParameter(`key_size of an oct key must be ${OCT_SIZES.join(', ')}`);
      return { family, keySize };
    }
  }
}

async function storeNew(core: KmsCore, name: string, kty: string, material: KeyMaterial, b: Body): Promise<KeyVersion> {
  const family = familyOf(kty);
  const keyOps = parseKeyOps(b.key_ops, family);
  const now = core.now();
  const attributes = newAttributes(parseAttributes(b), now);
  const releasePolicy = resolveReleasePolicy(core, parseReleasePolicy(b));
  checkExportable(attributes.exportable, releasePolicy);
  return core.store.addVersion(
    { name, kty, keyOps, publicJwk: publicJwkOf(material), material, attributes, tags: parseTags(b) ?? {}, ...(releasePolicy ? { releasePolicy } : {}) },
    now,
  );
}

/** `POST /keys/{name}/create`: a new key, or a new version of an existing one. */
export async function createKey(core: KmsCore, name: string, b: Body): Promise<KeyVersion> {
  checkName(name);
  const kty = optionalString(b, 'kty');
  if (!kty || !KTYS.includes(kty)) throw new KmsBadParameter(`kty must be one of ${KTYS.join(', ')}`);
  // Validate everything cheap before spending time on key generation.
  parseKeyOps(b.key_ops, familyOf(kty));
  parseAttributes(b);
  parseTags(b);
  const material = await generateMaterial(generateSpec(familyOf(kty), b));
  return storeNew(core, name, kty, material, b);
}

/** `PUT /keys/{name}`: import a private JWK; `Hsm` (the SDK) or `hsm` (Microsoft's sidecar) asks for the -HSM kind. */
export async function importKey(core: KmsCore, name: string, b: Body): Promise<KeyVersion> {
  checkName(name);
  const hsm = optionalBoolean(b, 'Hsm') ?? optionalBoolean(b, 'hsm') ?? false;
  const jwk = b.key;
  const { family, material } = materialFromJwk(jwk);
  const sentKty = (jwk as Body).kty as string;
  const kty = hsm || sentKty.endsWith('-HSM') ? `${family}-HSM` : family;
  const ops = (jwk as Body).key_ops;
  return storeNew(core, name, kty, material, { ...b, key_ops: b.key_ops ?? ops });
}

export function getKey(core: KmsCore, name: string, version?: string): Promise<KeyVersion> {
  return core.store.get(name, version);
}

/** `PATCH /keys/{name}/{version}`: key_ops, enabled/nbf/exp, tags and the release policy of one version. */
export async function updateKey(core: KmsCore, name: string, version: string | undefined, b: Body): Promise<KeyVersion> {
  const attributes = parseAttributes(b);
  const tags = parseTags(b);
  const policyInput = parseReleasePolicy(b);
  return core.store.update(name, version, (current) => {
    if (attributes.exportable !== undefined && attributes.exportable !== current.attributes.exportable) {
      throw new KmsBadParameter('attributes.exportable cannot be changed after a key is created');
    }
    const releasePolicy = resolveReleasePolicy(core, policyInput, current.releasePolicy);
    const next = { ...current.attributes, ...attributes, updated: core.now() };
    if (next.nbf !== undefined && next.exp !== undefined && next.nbf >= next.exp) throw new KmsBadParameter('attributes.nbf must be before attributes.exp');
    return {
      keyOps: b.key_ops === undefined ? current.keyOps : parseKeyOps(b.key_ops, familyOf(current.kty)),
      attributes: next,
      tags: tags ?? current.tags,
      releasePolicy,
    };
  });
}

/** Generation parameters reproducing an existing key's kind: size, exponent or curve. */
function sameKind(latest: KeyVersion, current: KeyMaterial): GenerateSpec {
  if (current.kind === 'oct') return { family: 'oct', keySize: current.raw.length * 8 };
  if (current.kind === 'RSA') {
    const n = Buffer.from(latest.publicJwk.n!, 'base64url');
    const e = Buffer.from(latest.publicJwk.e!, 'base64url');
    return { family: 'RSA', keySize: n.length * 8, publicExponent: Number(`0x${e.toString('hex')}`) };
  }
  const curve = latest.publicJwk.crv;
  if (!isCurveName(curve)) throw new KmsBadParameter(`the key's curve ${curve} cannot be rotated`);
  return { family: 'EC', curve };
}

/**
 * A new version with the latest one's kind, size, operations, tags, exportability and release
 * policy. With `ifLatest`, only while that version is the key's latest (KeyRotatedMeanwhile otherwise).
 */
export async function rotateKey(core: KmsCore, name: string, expiresAfterSeconds?: number, options: { ifLatest?: string } = {}): Promise<KeyVersion> {
  const { version: latest, material: current } = await core.store.getWithMaterial(name);
  const material = await generateMaterial(sameKind(latest, current));
  const now = core.now();
  return core.store.addVersion(
    {
      name: latest.name,
      kty: latest.kty,
      keyOps: latest.keyOps,
      publicJwk: publicJwkOf(material),
      material,
      attributes: {
        enabled: true,
        exportable: latest.attributes.exportable,
        created: now,
        updated: now,
        ...(expiresAfterSeconds ? { exp: now + expiresAfterSeconds } : {}),
      },
      tags: latest.tags,
      ...(latest.releasePolicy ? { releasePolicy: latest.releasePolicy } : {}),
    },
    now,
    options.ifLatest,
  );
}

export function listKeys(core: KmsCore, limit: number, after?: string): Promise<Page<KeyVersion>> {
  return core.store.listKeys(limit, after);
}

export function listKeyVersions(core: KmsCore, name: string, limit: number, after?: string): Promise<Page<KeyVersion>> {
  return core.store.listVersions(name, limit, after);
}
