import type { Static } from '@sinclair/typebox';
import { KmsBadParameter } from '../../errors';
import { CURVES, isCurveName } from '../keys/curves';
import { generateMaterial, type GenerateSpec } from '../keys/generate';
import { materialFromJwk, OCT_SIZES, RSA_SIZES } from '../keys/import-jwk';
import { parseKeyOps } from '../keys/key-ops';
import { publicJwkOf } from '../keys/public-jwk';
import { familyOf, type KeyAttributes, type KeyFamily, type KeyMaterial, type KeyVersion, type Page } from '../model';
import { attributesOf, releasePolicyOf, type AttributesInput } from '../wire/key-properties';
import type { CreateKeyBody, ImportKeyBody, UpdateKeyBody } from '../wire/schemas';
import type { KmsCore } from './core';
import { checkExportable, resolveReleasePolicy } from './release-policy';

/** A key write as the route's schema has checked it: types and bounds hold, the rules between fields are checked here. */
export type CreateKeyInput = Static<typeof CreateKeyBody>;
export type ImportKeyInput = Static<typeof ImportKeyBody>;
export type UpdateKeyInput = Static<typeof UpdateKeyBody>;

function newAttributes(input: AttributesInput, now: number): KeyAttributes {
  return { enabled: input.enabled ?? true, nbf: input.nbf, exp: input.exp, exportable: input.exportable ?? false, created: now, updated: now };
}

function generateSpec(family: KeyFamily, b: CreateKeyInput): GenerateSpec {
  switch (family) {
    case 'RSA': {
      const keySize = b.key_size ?? 2048;
      if (!RSA_SIZES.includes(keySize)) throw new KmsBadParameter(`key_size of an RSA key must be ${RSA_SIZES.join(', ')}`);
      const publicExponent = b.public_exponent ?? 65537;
      if (publicExponent % 2 === 0) throw new KmsBadParameter('public_exponent must be odd');
      return { family, keySize, publicExponent };
    }
    case 'EC': {
      const crv = b.crv ?? 'P-256';
      if (!isCurveName(crv)) throw new KmsBadParameter(`crv must be one of ${Object.keys(CURVES).join(', ')}`);
      return { family, curve: crv };
    }
    case 'oct': {
      const keySize = b.key_size ?? 256;
      if (!OCT_SIZES.includes(keySize)) throw new KmsBadParameter(`key_size of an oct key must be ${OCT_SIZES.join(', ')}`);
      return { family, keySize };
    }
  }
}

async function storeNew(core: KmsCore, name: string, kty: string, material: KeyMaterial, b: UpdateKeyInput): Promise<KeyVersion> {
  const family = familyOf(kty);
  const keyOps = parseKeyOps(b.key_ops, family);
  const now = core.now();
  const attributes = newAttributes(attributesOf(b.attributes), now);
  const releasePolicy = resolveReleasePolicy(core, releasePolicyOf(b.release_policy));
  checkExportable(attributes.exportable, releasePolicy);
  return core.store.addVersion({ name, kty, keyOps, publicJwk: publicJwkOf(material), material, attributes, tags: b.tags ?? {}, ...(releasePolicy ? { releasePolicy } : {}) }, now);
}

/** `POST /keys/{name}/create`: a new key, or a new version of an existing one. */
export async function createKey(core: KmsCore, name: string, b: CreateKeyInput): Promise<KeyVersion> {
  // Validate everything cheap before spending time on key generation.
  parseKeyOps(b.key_ops, familyOf(b.kty));
  attributesOf(b.attributes);
  const material = await generateMaterial(generateSpec(familyOf(b.kty), b));
  return storeNew(core, name, b.kty, material, b);
}

/** `PUT /keys/{name}`: import a private JWK; `Hsm` (the SDK) or `hsm` (Microsoft's sidecar) asks for the -HSM kind. */
export async function importKey(core: KmsCore, name: string, b: ImportKeyInput): Promise<KeyVersion> {
  const hsm = b.Hsm ?? b.hsm ?? false;
  const { family, material } = materialFromJwk(b.key);
  const kty = hsm || b.key.kty.endsWith('-HSM') ? `${family}-HSM` : family;
  return storeNew(core, name, kty, material, { ...b, key_ops: b.key_ops ?? b.key.key_ops });
}

export function getKey(core: KmsCore, name: string, version?: string): Promise<KeyVersion> {
  return core.store.get(name, version);
}

/** `PATCH /keys/{name}/{version}`: key_ops, enabled/nbf/exp, tags and the release policy of one version. */
export async function updateKey(core: KmsCore, name: string, version: string | undefined, b: UpdateKeyInput): Promise<KeyVersion> {
  const attributes = attributesOf(b.attributes);
  const tags = b.tags ?? undefined;
  const policyInput = releasePolicyOf(b.release_policy);
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
