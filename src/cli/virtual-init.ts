import { virtualInit } from '../snp';
import { parseFlags, parseProduct } from './args';
import { privateStateDirFrom } from './state-dir';

const FLAGS = {
  'state-dir': { type: 'string' },
  product: { type: 'string' },
} as const;

/** `skr virtual init`: creates (or checks) the virtual device's AMD-shaped PKI in the state directory. */
export async function virtualInitCommand(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, FLAGS);
  return virtualInit(await privateStateDirFrom(flags['state-dir'] as string | undefined), { product: parseProduct(flags.product as string | undefined) });
}
