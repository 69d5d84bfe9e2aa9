import { Type, type TSchema } from '@sinclair/typebox';
import { API_VERSIONS } from './api-version';

/**
 * Key Vault's JSON shapes as schemas: what requests may carry (checked before a handler runs)
 * and what answers carry (the KMS's /openapi.json). Field names are Key Vault's.
 */

/** One of `values`, as a JSON Schema enum (its refusal names the field, not a union's branches). */
export const OneOf = <T extends string>(values: readonly T[], options: { description?: string } = {}) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

/** An optional field Key Vault also reads as absent when it is null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

/** base64url, padding optional (Microsoft's sidecar pads); the same rule as src/lib/base64url.ts isBase64Url. */
export const Base64Url = (options: { minLength?: number; description?: string } = {}) =>
  Type.String({ pattern: '^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$', contentEncoding: 'base64url', ...options });

/** `api-version`: one of the versions the Key Vault REST specifications publish (src/kms/wire/api-version.ts). */
export const ApiVersionQuery = Type.Object({ 'api-version': OneOf(API_VERSIONS, { description: 'a published Key Vault data-plane version' }) });

/** A list request: `maxresults` (1..25, Key Vault's bounds) and the continuation token of the previous page. */
export const PageQuery = Type.Object({
  'api-version': ApiVersionQuery.properties['api-version'],
  maxresults: Type.Optional(Type.String({ pattern: '^0*(?:[1-9]|1[0-9]|2[0-5])$', description: 'an integer 1..25' })),
  $skiptoken: Type.Optional(Base64Url({ minLength: 1 })),
});

/** Key Vault's error envelope: its code, a message, and our stable code (with a refusal's reason) inside. */
export const KvError = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    innererror: Type.Object({ code: Type.String({ pattern: '^[a-z0-9_]+$' }), details: Type.Optional(Type.Object({})) }),
  }),
});

// Requests.

/** Writable key attributes; created, updated and recoveryLevel are read-only and ignored as Key Vault does. */
export const AttributesInput = Type.Object({
  enabled: Nullable(Type.Boolean()),
  nbf: Nullable(Type.Integer({ minimum: 0 })),
  exp: Nullable(Type.Integer({ minimum: 0 })),
  exportable: Nullable(Type.Boolean()),
});

/** At most 15 tags, names up to 512 characters, values up to 256. */
export const Tags = Type.Unsafe<Record<string, string>>({
  type: 'object',
  maxProperties: 15,
  propertyNames: { type: 'string', maxLength: 512 },
  additionalProperties: { type: 'string', maxLength: 256 },
});

/** A release policy as sent: `data` is base64url of UTF-8 JSON. */
export const ReleasePolicyInput = Type.Object({ contentType: Nullable(Type.String()), data: Nullable(Base64Url()), immutable: Nullable(Type.Boolean()) });

/** What every key write may carry besides the key itself. `key_ops` names are checked per key family. */
const KeyProperties = {
  key_ops: Nullable(Type.Array(Type.String())),
  attributes: Nullable(AttributesInput),
  tags: Nullable(Tags),
  release_policy: Nullable(ReleasePolicyInput),
};

export const KTYS = ['RSA', 'RSA-HSM', 'EC', 'EC-HSM', 'oct', 'oct-HSM'] as const;

export const CreateKeyBody = Type.Object({
  kty: OneOf(KTYS),
  key_size: Nullable(Type.Integer()),
  public_exponent: Nullable(Type.Integer({ minimum: 3, maximum: 2 ** 32 - 1 })),
  crv: Nullable(Type.String()),
  ...KeyProperties,
});

/** `Hsm` (the SDK) or `hsm` (Microsoft's sidecar) asks for the -HSM kind. */
export const ImportKeyBody = Type.Object({
  key: Type.Object({ kty: Type.String(), key_ops: Nullable(Type.Array(Type.String())) }, { description: 'a private JWK' }),
  Hsm: Nullable(Type.Boolean()),
  hsm: Nullable(Type.Boolean()),
  ...KeyProperties,
});

export const UpdateKeyBody = Type.Object(KeyProperties);

export const RotationPolicyBody = Type.Object({
  lifetimeActions: Nullable(
    Type.Array(
      Type.Object({
        trigger: Nullable(Type.Object({ timeAfterCreate: Nullable(Type.String()), timeBeforeExpiry: Nullable(Type.String()) })),
        action: Nullable(Type.Object({ type: Nullable(Type.String({ description: 'Rotate or Notify, in any case' })) })),
      }),
    ),
  ),
  attributes: Nullable(Type.Object({ expiryTime: Nullable(Type.String({ description: 'an ISO 8601 duration of at least 28 days' })) })),
});

/** The body of encrypt, decrypt, wrapkey, unwrapkey, sign and verify. */
export function CryptoBody(options: { nonEmptyValue: boolean; digest: boolean }) {
  return Type.Object({
    alg: Type.String({ minLength: 1 }),
    // There is no empty key to wrap, and an empty wrapped key carries no integrity check.
    value: Base64Url(options.nonEmptyValue ? { minLength: 1 } : {}),
    ...(options.digest ? { digest: Base64Url() } : {}),
    iv: Nullable(Base64Url()),
    aad: Nullable(Base64Url()),
    tag: Nullable(Base64Url()),
  });
}

export const ReleaseBody = Type.Object({
  target: Type.String({ minLength: 1, description: 'the attestation token' }),
  nonce: Nullable(Type.String()),
  enc: Nullable(Type.String({ description: 'the key wrap algorithm' })),
});

// Answers.

/** A secret's attributes; a key's are the same and `exportable`. */
const SecretAttributes = Type.Object({
  enabled: Type.Boolean(),
  nbf: Type.Optional(Type.Integer()),
  exp: Type.Optional(Type.Integer()),
  created: Type.Integer(),
  updated: Type.Integer(),
  recoveryLevel: Type.String(),
  recoverableDays: Type.Integer(),
});

const Attributes = Type.Composite([SecretAttributes, Type.Object({ exportable: Type.Boolean() })]);

/** The public JWK: `n`/`e` (RSA), `crv`/`x`/`y` (EC), nothing more (oct). */
const PublicJwk = Type.Object({
  kid: Type.String(),
  kty: Type.String(),
  key_ops: Type.Array(Type.String()),
  n: Type.Optional(Type.String()),
  e: Type.Optional(Type.String()),
  crv: Type.Optional(Type.String()),
  x: Type.Optional(Type.String()),
  y: Type.Optional(Type.String()),
});

const StoredTags = Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } });
const ReleasePolicy = Type.Object({ contentType: Type.String(), data: Type.String(), immutable: Type.Boolean() });

const bundleFields = { key: PublicJwk, attributes: Attributes, tags: StoredTags, managed: Type.Optional(Type.Boolean()), release_policy: Type.Optional(ReleasePolicy) };
const itemFields = { kid: Type.String(), attributes: Attributes, tags: StoredTags, managed: Type.Optional(Type.Boolean()) };
const deletedFields = { recoveryId: Type.String(), deletedDate: Type.Integer(), scheduledPurgeDate: Type.Integer() };

export const KeyBundle = Type.Object(bundleFields);
export const DeletedKeyBundle = Type.Object({ ...bundleFields, ...deletedFields });

/** A page of a list: `nextLink` repeats the request with the continuation token, null on the last page. */
const Page = (item: TSchema) => Type.Object({ value: Type.Array(item), nextLink: Type.Union([Type.String(), Type.Null()]) });
export const KeyItemPage = Page(Type.Object(itemFields));
export const DeletedKeyItemPage = Page(Type.Object({ ...itemFields, ...deletedFields }));

export const KeyOperationResult = Type.Object({ kid: Type.String(), value: Type.String(), iv: Type.Optional(Type.String()), tag: Type.Optional(Type.String()), aad: Type.Optional(Type.String()) });
export const KeyVerifyResult = Type.Object({ value: Type.Boolean() });
/** A single base64url or JWS value: backup, random bytes, a release. */
export const ValueResult = Type.Object({ value: Type.String() });

export const RotationPolicy = Type.Object({
  id: Type.String(),
  lifetimeActions: Type.Array(
    Type.Object({
      trigger: Type.Object({ timeAfterCreate: Type.Optional(Type.String()), timeBeforeExpiry: Type.Optional(Type.String()) }),
      action: Type.Object({ type: OneOf(['Rotate', 'Notify']) }),
    }),
  ),
  attributes: Type.Object({ expiryTime: Type.Optional(Type.String()), created: Type.Optional(Type.Integer()), updated: Type.Optional(Type.Integer()) }),
});

// Secrets (Key Vault's secrets data plane).

/** Key Vault's bound on a secret value: 25 KiB. Counted again in bytes by the operation. */
export const MAX_SECRET_VALUE_BYTES = 25 * 1024;

/** Writable secret attributes; created, updated and recoveryLevel are read-only and ignored as Key Vault does. */
export const SecretAttributesInput = Type.Object({
  enabled: Nullable(Type.Boolean()),
  nbf: Nullable(Type.Integer({ minimum: 0 })),
  exp: Nullable(Type.Integer({ minimum: 0 })),
});

const ContentType = Type.String({ maxLength: 255, description: 'what the value is, for its reader (e.g. application/x-pem-file)' });

/** Key Vault's SecretSetParameters. */
export const SetSecretBody = Type.Object({
  value: Type.String({ maxLength: MAX_SECRET_VALUE_BYTES, description: 'the secret value' }),
  contentType: Nullable(ContentType),
  attributes: Nullable(SecretAttributesInput),
  tags: Nullable(Tags),
});

/** Key Vault's SecretUpdateParameters: properties only, never the value. */
export const UpdateSecretBody = Type.Object({
  contentType: Nullable(ContentType),
  attributes: Nullable(SecretAttributesInput),
  tags: Nullable(Tags),
});

const secretItemFields = { id: Type.String(), attributes: SecretAttributes, tags: StoredTags, contentType: Type.Optional(Type.String()) };

/** A secret's version: with its value from get and set, without from update and recover (as Key Vault answers). */
export const SecretBundle = Type.Object({ value: Type.Optional(Type.String()), ...secretItemFields });
/** A deleted secret: its latest version's properties, never its value. */
export const DeletedSecretBundle = Type.Object({ ...secretItemFields, ...deletedFields });
export const SecretItemPage = Page(Type.Object(secretItemFields));
export const DeletedSecretItemPage = Page(Type.Object({ ...secretItemFields, ...deletedFields }));
