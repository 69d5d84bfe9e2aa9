import { parseParametersFile, validateTemplate } from '../deploy';
import { withExitCode } from './exit-code';
import { parseFlagsAndFile, readJsonFile } from './file-args';

export const TEMPLATE_VALIDATE_FLAGS = {
  parameters: { type: 'string' },
} as const;

/** `skr template validate FILE [--parameters F]`: the report always prints; exit 1 when invalid. */
export async function templateValidate(argv: string[]): Promise<unknown> {
  const { values, file } = parseFlagsAndFile(argv, TEMPLATE_VALIDATE_FLAGS, 'skr template validate FILE [--parameters F]');
  const template = await readJsonFile(file, 'template');
  const parameters = values.parameters === undefined ? undefined : parseParametersFile(await readJsonFile(values.parameters, '--parameters'));
  const report = validateTemplate(template, { parameters });
  return report.valid ? report : withExitCode(report, 1);
}
