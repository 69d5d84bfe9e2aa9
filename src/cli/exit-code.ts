/**
 * A check that ran and found problems still prints its whole report (one JSON object) but
 * must exit non-zero. Commands mark such a result with this symbol-keyed property, which
 * JSON.stringify leaves out; main() sets process.exitCode from it.
 */
export const EXIT_CODE = Symbol('skr.exitCode');

export function withExitCode<T extends object>(result: T, code: number): T {
  return Object.assign(result, { [EXIT_CODE]: code });
}

export function exitCodeOf(result: unknown): number {
  const code = result !== null && typeof result === 'object' ? (result as { [EXIT_CODE]?: unknown })[EXIT_CODE] : undefined;
  return typeof code === 'number' ? code : 0;
}
