/** The literal path segments of the KMS's routes; any other segment is a parameter. */
const LITERALS = new Set([
  'keys',
  'deletedkeys',
  'secrets',
  'deletedsecrets',
  'create',
  'rotate',
  'rotationpolicy',
  'release',
  'versions',
  'backup',
  'restore',
  'recover',
  'rng',
  'encrypt',
  'decrypt',
  'wrapkey',
  'unwrapkey',
  'sign',
  'verify',
  'admin',
  'roles',
  'audit',
  'openapi.json',
]);
/** The collections whose next segment is an object's name (and the one after it, a version). */
const NAMED = new Set(['keys', 'deletedkeys', 'secrets', 'deletedsecrets']);
const MAX_SEGMENTS = 5;

/**
 * The route pattern of a path no route answered (refused before routing, or unknown): known
 * segments kept, others named by position (`/keys/:name/:version/release`), at most a few
 * segments. The raw path is never recorded: it is the caller's to fill.
 */
export function routePatternOf(path: string): string {
  const segments = path.split('/').filter(Boolean);
  const named = segments.slice(0, MAX_SEGMENTS).map((segment, i) => {
    const lower = segment.toLowerCase();
    if (LITERALS.has(lower)) return lower;
    const parent = segments[i - 1]?.toLowerCase();
    if (parent !== undefined && NAMED.has(parent)) return ':name';
    if (parent === 'roles') return ':id';
    return i === 2 && NAMED.has(segments[0]?.toLowerCase() ?? '') ? ':version' : ':param';
  });
  return `/${named.join('/')}${segments.length > MAX_SEGMENTS ? '/…' : ''}`;
}
