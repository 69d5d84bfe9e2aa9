import { KbsResourceNameUnmappable, KbsResourcePathInvalid } from '../errors';

/**
 * A resource's path, `repository/type/tag`, each segment `[A-Za-z0-9_-][A-Za-z0-9_.-]*` as
 * trustee's ResourceDesc: no segment can be empty, `.` or `..`, or hold a slash, so a path never
 * names anything outside its three levels.
 */
export type ResourcePath = readonly [repository: string, type: string, tag: string];

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;
/** Longer segments are refused before any encoding: nothing legitimate needs them. The sidecar's /cdh/resource uses the same limit. */
export const MAX_RESOURCE_SEGMENT = 127;

export function isSegment(value: string): boolean {
  return value.length <= MAX_RESOURCE_SEGMENT && SEGMENT.test(value);
}

export function parseResourcePath(segments: readonly string[]): ResourcePath {
  if (segments.length !== 3 || !segments.every(isSegment)) throw new KbsResourcePathInvalid();
  return [segments[0]!, segments[1]!, segments[2]!];
}

export function formatResourcePath(path: ResourcePath): string {
  return path.join('/');
}

/** Key Vault's limit on secret names (1-127 of [0-9a-zA-Z-]). */
export const MAX_SECRET_NAME = 127;
const PREFIX = 'kbs-';

/**
 * The Key Vault secret name of a resource: `kbs-` then the path with every character that is not
 * a lowercase letter or digit (the separating `/` included) written as `-` and its two lowercase
 * hex digits. `default/key/Tag_1` becomes `kbs-default-2fkey-2f-54ag-5f1`.
 *
 * Injective: reading left to right, each `-` starts exactly one three-character escape and every
 * other character stands for itself, so the path is recovered from the name. The name holds no
 * uppercase letter, so Key Vault's case-insensitive names cannot make two of them collide.
 * Names longer than Key Vault allows are refused rather than shortened, which would not be
 * injective.
 */
export function secretNameOf(path: ResourcePath): string {
  let name = PREFIX;
  for (const ch of formatResourcePath(path)) name += /[a-z0-9]/.test(ch) ? ch : `-${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  if (name.length > MAX_SECRET_NAME) throw new KbsResourceNameUnmappable(name.length);
  return name;
}

/** The path a secret name stands for, or undefined for a name secretNameOf never produces. */
export function resourcePathOf(name: string): ResourcePath | undefined {
  if (!name.startsWith(PREFIX)) return undefined;
  let text = '';
  for (let i = PREFIX.length; i < name.length; i++) {
    const ch = name[i]!;
    if (ch !== '-') {
      if (!/[a-z0-9]/.test(ch)) return undefined;
      text += ch;
      continue;
    }
    const hex = name.slice(i + 1, i + 3);
    if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
    const decoded = String.fromCharCode(parseInt(hex, 16));
    if (/[a-z0-9]/.test(decoded)) return undefined;
    text += decoded;
    i += 2;
  }
  const segments = text.split('/');
  if (segments.length !== 3 || !segments.every(isSegment)) return undefined;
  return [segments[0]!, segments[1]!, segments[2]!];
}
