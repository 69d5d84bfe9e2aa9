import { InvalidArgument } from '../errors';
import { DEVICE_CHOICES } from '../snp';
import { exitCodeOf } from './exit-code';
import { printError, printJson } from './output';

type Command = (argv: string[]) => Promise<unknown>;

/**
 * Each command's module is loaded when it runs: a server start (`skr dev`, `skr sidecar`)
 * then does not pay for the template validator, the deploy schemas or the other commands.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  'key create': async () => (await import('./key')).keyCreate,
  'key import': async () => (await import('./key')).keyImport,
  'policy create': async () => (await import('./policy')).policyCreate,
  'policy explain': async () => (await import('./policy-explain')).policyExplain,
  'policy hostdata': async () => (await import('./policy')).policyHostdata,
  'policy lint': async () => (await import('./policy')).policyLint,
  'template validate': async () => (await import('./template')).templateValidate,
  'report get': async () => (await import('./report-get')).reportGet,
  'report verify': async () => (await import('./report-verify')).reportVerify,
  'virtual init': async () => (await import('./virtual-init')).virtualInitCommand,
  'verifier refs': async () => (await import('./verifier')).verifierRefs,
  verifier: async () => (await import('./verifier')).verifierServe,
  sidecar: async () => (await import('./sidecar')).sidecarServe,
  dev: async () => (await import('./dev')).devServe,
  'kms role': async () => (await import('./kms')).kmsRole,
  'kms audit': async () => (await import('./kms')).kmsAudit,
  'kms migrate': async () => (await import('./kms-migrate')).kmsMigrate,
  kms: async () => (await import('./kms')).kmsServe,
  kbs: async () => (await import('./kbs')).kbsServe,
};

const DEVICES = DEVICE_CHOICES.join('|');

const USAGE = `usage: skr <command> [flags]
  dev           [--port 8080] [--state-dir D]     the whole system on one machine (npm start)
  report get    [--device ${DEVICES}] [--device-path PATH] [--state-dir D]
                [--runtime-data B64] [--vmpl N]
  report verify --report FILE --vcek FILE [--chain PEM] [--trust-root PEM]... [--at ISO8601]
                [--product Milan|Genoa|Turin] [--forbid-debug] [--vmpl N] [--measurement HEX]
                [--host-data HEX] [--report-data HEX] [--min-tcb bl,tee,snp,ucode]
  sidecar       [--port 8080] [--device ${DEVICES}] [--maa-endpoint E] [--akv-endpoint E]
                [--allow E,...] [--user nobody] [--ca-file PEM]... [--state-dir D]
  virtual init  [--state-dir D] [--product Milan|Genoa|Turin]
  policy explain --policy F --token T
  policy hostdata (--cce-policy B64 | --template F [--parameters F])
  policy create --maa URL --hostdata HEX [--hostdata HEX]...
  policy lint   FILE
  template validate FILE [--parameters F]
  key create    --vault URL --name N --kty oct-HSM|RSA-HSM|EC-HSM [--size N | --curve C] [--ops a,b]
                --policy F [--exportable] [--immutable-policy] [--allow-weak-policy]
  key import    --vault URL --name N --kty ... --key FILE(PEM|JWK) --policy F [--exportable] [--immutable-policy]
  kms           --port P --state-dir D [--pkcs11-module SO --pkcs11-token LABEL --pkcs11-pin-file F]
                [--audit-retention-days N (365)] [--store postgres://USER@HOST:PORT/DB | sqlite:PATH ($SKR_STORE)]
  kms role      add|list|remove ...      kms audit [verify] [--key N] [--since ISO8601]   (both take --store)
  kms migrate   --to postgres://USER@HOST:PORT/DB [--from sqlite:PATH] [--state-dir D]   (empty target, one transaction)
  verifier      --port P [--http] [--state-dir D] [--store postgres://...] [--policy F] [--trust-root PEM]...
                [--trust-virtual] [--check-revocation on|off] [--crl-file F]... [--kds-url URL]
  verifier refs list|add|remove [--kind measurement|host-data] [--value HEX] [--state-dir D] [--store postgres://...]
  kbs           --port P [--http] [--state-dir D] [--policy F] [--trust-root PEM]... [--trust-virtual]
                [--verifier-url URL [--verifier-ca-file PEM]...] [--vault-url URL [--vault-ca-file PEM]...]
                [--admin-public-key PEM]... [--issuer URL] [--store postgres://... ($SKR_KBS_STORE)]`;

/**
 * Runs one CLI command: one JSON object on stdout, exit 0 on success. Every file a command
 * creates (state, keys, tokens, secrets, a library's own files) is for its user only: the
 * umask takes group and other bits off whatever mode the code or a library asks for.
 */
export async function main(argv: string[]): Promise<void> {
  process.umask(0o077);
  const name = [argv[0], argv[1]].join(' ');
  const command = COMMANDS[name] ?? COMMANDS[argv[0] ?? ''];
  const rest = COMMANDS[name] ? argv.slice(2) : argv.slice(1);
  try {
    if (!command) {
      process.stderr.write(`${USAGE}\n`);
      throw new InvalidArgument(`unknown command "${argv.slice(0, 2).join(' ')}"`);
    }
    const result = await (await command())(rest);
    printJson(result);
    process.exitCode = exitCodeOf(result);
  } catch (error) {
    process.exitCode = printError(error);
  }
}
