import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidArgument } from '../errors';
import { readInputFile } from './args';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict flags plus exactly one positional FILE (`skr template validate FILE`). */
export function parseFlagsAndFile<T extends Options>(argv: string[], options: T, usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new InvalidArgument(error instanceof Error ? error.message : String(error));
  }
  if (parsed.positionals.length !== 1) throw new InvalidArgument(`usage: ${usage}`);
  return { values: parsed.values, file: parsed.positionals[0] };
}

export async function readJsonFile(path: string, flag: string): Promise<unknown> {
  const bytes = await readInputFile(path, flag);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new InvalidArgument(`${flag} ${path}: not JSON`, { flag, path });
  }
}
