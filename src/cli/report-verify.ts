import { InvalidArgument } from '../errors';
import { parseHclReport, REPORT_DATA_SIZE, REPORT_SIZE, type Tcb, configuredRoot, summarizeReport, checkReport, type ValidateOptions, verifyReport, splitPem } from '../snp';
import { parseFlags, parseHex, parseInstant, parseInteger, parseProduct, parseVmpl, readInputFile, required } from './args';

const REPORT_VERIFY_FLAGS = {
  report: { type: 'string' },
  vcek: { type: 'string' },
  chain: { type: 'string' },
  'trust-root': { type: 'string', multiple: true },
  at: { type: 'string' },
  product: { type: 'string' },
  'forbid-debug': { type: 'boolean' },
  vmpl: { type: 'string' },
  measurement: { type: 'string' },
  'host-data': { type: 'string' },
  'report-data': { type: 'string' },
  'min-tcb': { type: 'string' },
} as const;

/**
 * The report file may be the raw 0x4A0 bytes, an Azure HCL report (the SNP report is
 * extracted), or the report as hex text (what `/attest/raw` returns).
 */
function decodeReportFile(bytes: Buffer): Buffer {
  if (bytes.length === REPORT_SIZE) return bytes;
  if (bytes.subarray(0, 4).toString('latin1') === 'HCLA') return parseHclReport(bytes).report;
  const text = bytes.toString('latin1').trim();
  if (/^[0-9a-fA-F]+$/.test(text) && text.length === REPORT_SIZE * 2) return Buffer.from(text, 'hex');
  return bytes;
}

/** `--min-tcb bl,tee,snp,ucode[,fmc]`. */
function parseMinTcb(value: string): Partial<Tcb> {
  const parts = value.split(',');
  if (parts.length < 4 || parts.length > 5) throw new InvalidArgument('--min-tcb must be bl,tee,snp,ucode[,fmc]', { flag: 'min-tcb' });
  const [bootloader, tee, snp, microcode, fmc] = parts.map((p) => parseInteger(p.trim(), 'min-tcb', 0, 255));
  const tcb: Partial<Tcb> = { bootloader, tee, snp, microcode };
  if (fmc !== undefined) tcb.fmc = fmc;
  return tcb;
}

function validationOptions(flags: ReturnType<typeof parseFlags<typeof REPORT_VERIFY_FLAGS>>): ValidateOptions | undefined {
  const options: ValidateOptions = {};
  if (flags['forbid-debug']) options.forbidDebug = true;
  if (flags.vmpl !== undefined) options.vmpl = parseVmpl(flags.vmpl as string);
  if (flags.measurement !== undefined) options.measurement = parseHex(flags.measurement as string, 'measurement', 48);
  if (flags['host-data'] !== undefined) options.hostData = parseHex(flags['host-data'] as string, 'host-data', 32);
  if (flags['report-data'] !== undefined) options.reportData = parseHex(flags['report-data'] as string, 'report-data', REPORT_DATA_SIZE);
  if (flags['min-tcb'] !== undefined) options.minimumTcb = parseMinTcb(flags['min-tcb'] as string);
  return Object.keys(options).length > 0 ? options : undefined;
}

/** `skr report verify`: is the report genuine (and, with validation flags, acceptable)? */
export async function reportVerify(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, REPORT_VERIFY_FLAGS);
  const report = decodeReportFile(await readInputFile(required(flags.report as string | undefined, 'report'), 'report'));
  const vek = await readInputFile(required(flags.vcek as string | undefined, 'vcek'), 'vcek');
  const chain = flags.chain ? splitPem((await readInputFile(flags.chain as string, 'chain')).toString('latin1')) : [];
  if (flags.chain && chain.length === 0) throw new InvalidArgument('--chain holds no PEM certificate', { flag: 'chain' });
  const now = parseInstant(flags.at as string | undefined, 'at');
  const product = parseProduct(flags.product as string | undefined);
  const roots = [];
  for (const path of (flags['trust-root'] as string[] | undefined) ?? []) {
    try {
      roots.push(configuredRoot(await readInputFile(path, 'trust-root')));
    } catch (error) {
      if (error instanceof InvalidArgument) throw error;
      throw new InvalidArgument(`--trust-root ${path}: ${(error as Error).message}`, { flag: 'trust-root' });
    }
  }
  const validation = validationOptions(flags);

  const verified = await verifyReport({ report, vek, chain }, { now, product, trustedRoots: roots });
  const summary = { ...summarizeReport(verified), verifiedAt: now.toISOString() };
  if (!validation) return summary;
  const [failure] = checkReport(verified, validation);
  if (failure) throw failure;
  return { ...summary, validation: { passed: true } };
}
