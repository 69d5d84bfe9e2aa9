import { InternalError, InvalidArgument, SkrError } from '../errors';

/** Every CLI command prints exactly one JSON object on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Usage errors exit 2; refused evidence and failed operations exit 1. */
export function exitCodeFor(error: SkrError): number {
  return error instanceof InvalidArgument ? 2 : 1;
}

/** The CLI error shape `{"error":{"code","message"}}`; unexpected errors never leak their stack. */
export function printError(error: unknown): number {
  const skr = error instanceof SkrError ? error : new InternalError('unexpected failure');
  if (!(error instanceof SkrError)) process.stderr.write(`skr: ${error instanceof Error ? error.message : String(error)}\n`);
  printJson({ error: skr.toJSON() });
  return exitCodeFor(skr);
}
