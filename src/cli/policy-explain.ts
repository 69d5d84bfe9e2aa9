import { InvalidArgument } from '../errors';
import { decodeBase64Url } from '../lib/base64url';
import { explainRelease, releaseDenied } from '../kms/policy';
import { parseFlags, readInputFile, required } from './args';

export const POLICY_EXPLAIN_FLAGS = {
  policy: { type: 'string' },
  token: { type: 'string' },
} as const;

const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The policy file holds the policy JSON, or Key Vault's `release_policy` object whose `data`
 * is the base64url policy (what a KeyBundle carries).
 */
export function decodePolicyFile(bytes: Buffer): Buffer {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    return bytes; // parseReleasePolicy reports what is wrong with it
  }
  if (typeof json === 'object' && json !== null && !('anyOf' in json) && typeof (json as { data?: unknown }).data === 'string') {
    const data = decodeBase64Url((json as { data: string }).data);
    if (!data) throw new InvalidArgument('--policy: release_policy.data is not base64url', { flag: 'policy' });
    return data;
  }
  return bytes;
}

/** `--token` is the JWT itself, or a file holding it (bare, or as the sidecar's `{"token": …}` answer). */
export async function readToken(value: string): Promise<string> {
  if (COMPACT_JWT.test(value)) return value;
  const text = (await readInputFile(value, 'token')).toString('utf8').trim();
  if (text.startsWith('{')) {
    try {
      const { token } = JSON.parse(text) as { token?: unknown };
      if (typeof token === 'string') return token;
    } catch {
      // not JSON after all: explainRelease says the text is not a JWT
    }
  }
  return text;
}

/**
 * `skr policy explain`: would this token's claims satisfy this release policy? The token is
 * decoded without verifying its signature (`tokenVerified: false`); a denial exits non-zero
 * with the explanation in the error's details.
 */
export async function policyExplain(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, POLICY_EXPLAIN_FLAGS);
  const policy = decodePolicyFile(await readInputFile(required(flags.policy as string | undefined, 'policy'), 'policy'));
  const token = await readToken(required(flags.token as string | undefined, 'token'));
  const report = explainRelease({ policy, token });
  if (!report.allowed) throw releaseDenied(report, { tokenVerified: false, issuer: report.issuer });
  return {
    tokenVerified: false,
    allowed: true,
    authority: report.authority,
    issuer: report.issuer,
    explanation: report.explanation,
  };
}
