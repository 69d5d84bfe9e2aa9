import { ccePolicyHostdataOfTemplate, classifyCcePolicy, createReleasePolicy, decodeCcePolicyBase64, lintReleasePolicy, parseParametersFile } from '../deploy';
import { InvalidArgument } from '../errors';
import { parseFlags } from './args';
import { withExitCode } from './exit-code';
import { parseFlagsAndFile, readJsonFile } from './file-args';

export const POLICY_HOSTDATA_FLAGS = {
  'cce-policy': { type: 'string' },
  template: { type: 'string' },
  parameters: { type: 'string' },
} as const;

export const POLICY_CREATE_FLAGS = {
  maa: { type: 'string' },
  hostdata: { type: 'string', multiple: true },
} as const;

const ALLOW_ALL_WARNING = 'this is an allow-all debug policy: any container can run under it, never bind a key to this host_data';

/** `skr policy hostdata (--cce-policy B64 | --template F [--parameters F])` → SHA-256 of the decoded ccePolicy. */
export async function policyHostdata(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, POLICY_HOSTDATA_FLAGS);
  const inline = flags['cce-policy'] as string | undefined;
  const templatePath = flags.template as string | undefined;
  const parametersPath = flags.parameters as string | undefined;
  if ((inline === undefined) === (templatePath === undefined)) throw new InvalidArgument('give exactly one of --cce-policy or --template');
  if (parametersPath !== undefined && templatePath === undefined) throw new InvalidArgument('--parameters goes with --template', { flag: 'parameters' });

  let result: { hostdata: string; allowAll: boolean };
  if (inline !== undefined) {
    const decoded = decodeCcePolicyBase64(inline.trim());
    if (!decoded) throw new InvalidArgument('--cce-policy must be standard base64', { flag: 'cce-policy' });
    result = classifyCcePolicy(decoded);
  } else {
    const template = await readJsonFile(templatePath as string, '--template');
    const parameters = parametersPath === undefined ? undefined : parseParametersFile(await readJsonFile(parametersPath, '--parameters'));
    result = ccePolicyHostdataOfTemplate(template, { parameters });
  }
  return result.allowAll ? { hostdata: result.hostdata, warning: ALLOW_ALL_WARNING } : { hostdata: result.hostdata };
}

/**
 * `skr policy create --maa URL --hostdata HEX [--hostdata HEX]...` → the release policy JSON on
 * stdout; the linter's findings about it, if any, on stderr as `{"findings": [...]}`.
 */
export async function policyCreate(argv: string[], stderr: (text: string) => void = (text) => process.stderr.write(text)): Promise<unknown> {
  const flags = parseFlags(argv, POLICY_CREATE_FLAGS);
  if (flags.maa === undefined) throw new InvalidArgument('--maa is required', { flag: 'maa' });
  const policy = createReleasePolicy(flags.maa as string, (flags.hostdata as string[] | undefined) ?? []);
  const { findings } = lintReleasePolicy(policy);
  if (findings.length > 0) stderr(`${JSON.stringify({ findings })}\n`);
  return policy;
}

/** `skr policy lint FILE` → `{ok, findings}`; exit 1 when a finding is an error. */
export async function policyLint(argv: string[]): Promise<unknown> {
  const { file } = parseFlagsAndFile(argv, {}, 'skr policy lint FILE');
  const result = lintReleasePolicy(await readJsonFile(file, 'policy'));
  return result.ok ? result : withExitCode(result, 1);
}
