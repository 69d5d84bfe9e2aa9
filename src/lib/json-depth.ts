/**
 * Whether a parsed JSON value nests deeper than `max` levels. Iterative, so the check itself
 * cannot overflow the stack on the hostile documents it exists to refuse (JSON.parse copes with
 * deep nesting; JSON.stringify and recursive consumers do not).
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Runtime and init-time data deeper than this are refused: real ones (a JWKS) nest four levels. */
export const MAX_RUNTIME_DEPTH = 64;
