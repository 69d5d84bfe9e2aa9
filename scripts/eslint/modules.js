'use strict';
// The module map of src/: every module and the modules it may import. Dependencies point one
// way (the sidecar uses the attester, the MAA client, the KBS client and keywrap; the verifier
// service uses the attester; the KMS uses keywrap and the OIDC token verifier; the attester uses
// nothing of ours), written down once so that `skr/layers` can enforce it and `skr/door` knows
// where each module's door is.
//
// A module is a folder of src/ (or the file src/errors.ts); a file belongs to the module with the
// longest matching path, so `maa/service` (the verifier service) is a module of its own inside
// `maa` (the MAA wire format, client and UVM endorsements), `kms/policy` (the release-policy
// grammar, also used by `deploy` and the CLI) one inside `kms`, and `deploy/key` one inside
// `deploy`.
//
// Deny by default: an import between two modules that the map does not allow is an error, and so
// is a file in a folder that is not in the map (add the folder here with its dependencies).
const path = require('node:path');

/** The shared base: a toolbox of one-job files that any module may import file by file. */
const BASE = ['errors', 'lib', 'tls'];

/** module -> the modules it may import ('*' for all). Its own files are always allowed. */
const LAYERS = {
  // SkrError and its subclasses: imports nothing of ours.
  errors: [],
  // The toolbox. lib/http.ts takes its outbound TLS trust from tls/, and tls/ writes its files
  // with lib/state-file.ts: the two are one base layer (no-cycle still forbids file cycles).
  lib: ['errors', 'tls'],
  tls: ['errors', 'lib'],
  // The attester: depends on nothing of ours but the base (an HTTP client is injected).
  snp: ['errors', 'lib'],
  // Generic OIDC/JWS: token verifier and signing-key ring.
  oidc: ['errors', 'lib'],
  // CKM_RSA_AES_KEY_WRAP, shared by the KMS (wraps) and the sidecar (unwraps).
  keywrap: ['errors', 'lib'],
  // The release-policy grammar, decision and explanation.
  'kms/policy': ['errors', 'lib'],
  // MAA wire format, the client that calls any MAA, SEV-SNP claims, UVM endorsements.
  maa: ['errors', 'lib', 'snp', 'oidc'],
  // The verifier service.
  'maa/service': ['errors', 'lib', 'tls', 'snp', 'oidc', 'maa'],
  // The key broker: the verifier in process or over HTTPS; resource policies in the release-policy grammar.
  kbs: ['errors', 'lib', 'tls', 'snp', 'oidc', 'maa', 'maa/service', 'kms/policy'],
  // The Key Vault-compatible KMS.
  kms: ['errors', 'lib', 'tls', 'kms/policy', 'keywrap', 'oidc'],
  // The local managed-identity endpoint: signs tokens with the OIDC key ring.
  identity: ['errors', 'lib', 'oidc'],
  // The sidecar: attester, MAA client, KBS client, and the unwrap of released keys.
  sidecar: ['errors', 'lib', 'tls', 'snp', 'maa', 'kbs', 'keywrap', 'oidc'],
  // Deployment tooling: ARM templates, ccePolicy host_data, release policies.
  deploy: ['errors', 'lib', 'tls', 'kms/policy'],
  // Creating and importing keys in Key Vault through the Azure SDK, apart so that the template
  // and policy tools do not load the SDK.
  'deploy/key': ['errors', 'lib', 'tls'],
  // The wiring: the all-in-one stack and the command line use every module (through its door).
  dev: '*',
  cli: '*',
};

/** The modules, longest path first, so that the first match is the innermost module. */
const MODULES = Object.keys(LAYERS).sort((a, b) => b.length - a.length);

/** The module that holds `file` (an absolute path inside `srcRoot`), or undefined if unmapped. */
function moduleOf(srcRoot, file) {
  const rel = toPosix(path.relative(srcRoot, file));
  if (rel.startsWith('../') || path.isAbsolute(rel)) return undefined;
  const bare = rel.replace(/\.ts$/, '');
  return MODULES.find((m) => bare === m || rel.startsWith(`${m}/`));
}

/** The name of the top-level folder (or file) under src/ of `file`, for reporting an unmapped one. */
function folderOf(srcRoot, file) {
  return toPosix(path.relative(srcRoot, file)).split('/')[0].replace(/\.ts$/, '');
}

function isInside(srcRoot, file) {
  const rel = path.relative(srcRoot, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** May code in module `from` import module `to`? */
function mayImport(from, to) {
  if (from === to) return true;
  const allowed = LAYERS[from];
  return allowed === '*' || (Array.isArray(allowed) && allowed.includes(to));
}

function toPosix(p) {
  return p.split(path.sep).join('/');
}

module.exports = { BASE, LAYERS, MODULES, moduleOf, folderOf, isInside, mayImport, toPosix };
