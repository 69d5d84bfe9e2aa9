import { InvalidArgument } from '../errors';
import { printError, printJson } from './output';
import { reportVerify } from './report-verify';

type Command = (argv: string[]) => Promise<unknown>;

const COMMANDS: Record<string, Command> = {
  'report verify': reportVerify,
};

const USAGE = `usage: skr <command> [flags]
  report verify --report FILE --vcek FILE [--chain PEM] [--trust-root PEM]... [--at ISO8601]
                [--product Milan|Genoa|Turin] [--forbid-debug] [--vmpl N] [--measurement HEX]
                [--host-data HEX] [--report-data HEX] [--min-tcb bl,tee,snp,ucode]`;

/** Runs one CLI command: one JSON object on stdout, exit 0 on success. */
export async function main(argv: string[]): Promise<void> {
  const name = [argv[0], argv[1]].join(' ');
  const command = COMMANDS[name] ?? COMMANDS[argv[0] ?? ''];
  const rest = COMMANDS[name] ? argv.slice(2) : argv.slice(1);
  try {
    if (!command) {
      process.stderr.write(`${USAGE}\n`);
      throw new InvalidArgument(`unknown command "${argv.slice(0, 2).join(' ')}"`);
    }
    printJson(await command(rest));
    process.exitCode = 0;
  } catch (error) {
    process.exitCode = printError(error);
  }
}
