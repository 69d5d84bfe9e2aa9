import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { InvalidArgument } from '../errors';

/**
 * Whom skr trusts when it calls out over TLS (verifier, key service, authority discovery,
 * the release JWS): the Node convention — Node's root store, plus the certificates in the file
 * `NODE_EXTRA_CA_CERTS` names, plus those given with `--ca-file`. Node applies
 * NODE_EXTRA_CA_CERTS only while a client names no CA of its own; any `ca` option replaces the
 * whole default list. So every outbound client takes its trust from here, never a bare `ca`.
 */
export interface OutboundTrust {
  /** Every trusted CA certificate, one PEM each. */
  readonly ca: readonly string[];
  /** Built once: a context over ~150 roots is too costly to build per connection. */
  readonly secureContext: SecureContext;
  /** Keep-alive agent over that context: its sockets are never shared with another trust. */
  readonly agent: Agent;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, one PEM each; refuses a bundle with none or a bad one. */
export function splitCaBundle(text: string, source: string): string[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new InvalidArgument(`${source} holds no PEM certificate`);
  for (const pem of blocks) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new InvalidArgument(`${source} holds a certificate that does not parse`);
    }
  }
  return blocks;
}

let environmentCas: readonly string[] | undefined;

/**
 * NODE_EXTRA_CA_CERTS, read once as Node itself reads it. A file Node could not use is skipped
 * as Node skips it (Node has already warned): trusting fewer CAs fails closed.
 */
function nodeExtraCaCerts(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  if (environmentCas) return environmentCas;
  const file = env.NODE_EXTRA_CA_CERTS;
  let cas: string[] = [];
  if (file) {
    try {
      cas = splitCaBundle(readFileSync(file, 'utf8'), 'NODE_EXTRA_CA_CERTS');
    } catch {
      cas = [];
    }
  }
  environmentCas = cas;
  return cas;
}

/** One per distinct --ca-file set; a process has one or two (sidecar, KMS), named at start-up. */
const built = new Map<string, OutboundTrust>();

/** The trust for outbound TLS with `caFilePems` (PEM certificates from --ca-file) added. */
export function outboundTrust(caFilePems: readonly string[] | string = []): OutboundTrust {
  const extra = typeof caFilePems === 'string' ? [caFilePems] : caFilePems;
  const key = extra.join('\n');
  let trust = built.get(key);
  if (!trust) {
    const given = extra.flatMap((pem) => splitCaBundle(pem, '--ca-file'));
    const ca = [...new Set([...rootCertificates, ...nodeExtraCaCerts(), ...given])];
    const secureContext = createSecureContext({ ca });
    trust = { ca, secureContext, agent: new Agent({ keepAlive: true, secureContext }) };
    built.set(key, trust);
  }
  return trust;
}
