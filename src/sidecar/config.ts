import { InvalidArgument } from '../errors';
import { normaliseEndpoint } from '../lib/endpoint';
import { isProduct, type Product, describeDeviceChoices, isDeviceChoice, type DeviceChoice } from '../snp';

/** Everything the sidecar needs, validated at start so a bad setting fails loudly, not per request. */
export interface SidecarConfig {
  host: string;
  port: number;
  device: DeviceChoice;
  devicePath?: string;
  /** The virtual device's state (only with `device: virtual`). */
  stateDir: string;
  maaEndpoint?: string;
  akvEndpoint?: string;
  /**
   * The KBS whose resources `/cdh/resource` serves (guest-components' `[kbc] url`), under the
   * same endpoint rules as the others (https unless loopback, an origin only). No route takes a
   * KBS from the caller, so it is not added to `allowedEndpoints`: that set also names the
   * issuers whose verifier tokens the sidecar trusts, and a KBS is not one.
   */
  kbsEndpoint?: string;
  /** Origins a caller may name; the configured endpoints are always on it. */
  allowedEndpoints: Set<string>;
  teeKeyBits: 2048 | 3072;
  teeKeyTtlSeconds: number;
  /**
   * Microsoft's sidecar's pipeline: a new TEE key, report and token for every release, nothing
   * reused. Many times slower; for comparison (the benchmark's reference) or for a deployment
   * that wants no key to outlive one release.
   */
  freshPerRelease: boolean;
  /** Managed identity client id (SkrSideCarArgs identity.client_id or AZURE_CLIENT_ID). */
  identityClientId?: string;
  /** Extra CA certificates (PEM text) trusted for the verifier, the key service and the release JWS. */
  caPems: string[];
  timeoutMs: number;
  deviceConcurrency: number;
  /** Drop to this user after start-up when running as root. */
  user?: string;
  defaultProduct: Product;
  securityContextDir?: string;
  /** THIM endpoint for the host certificate (SkrSideCarArgs certcache LocalTHIM). */
  thimUrl?: string;
  /** Whether AMD KDS may be asked for a VCEK the platform did not provide. */
  useKds: boolean;
}

function boolean(value: string | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value !== 'true' && value !== 'false') throw new InvalidArgument(`${name} must be true or false`);
  return value === 'true';
}

export interface SidecarInputs {
  flags: Record<string, string | boolean | string[] | undefined>;
  env: NodeJS.ProcessEnv;
}

function pick(flags: SidecarInputs['flags'], env: NodeJS.ProcessEnv, flag: string, variable: string): string | undefined {
  const value = flags[flag];
  if (typeof value === 'string') return value;
  return env[variable] !== undefined && env[variable] !== '' ? env[variable] : undefined;
}

function integer(value: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgument(`${name} must be an integer ${min}..${max}`);
  return Number(value);
}

/** Microsoft's `SkrSideCarArgs`: base64 JSON with certcache, identity and maaconfig, all optional. */
export function parseSkrSideCarArgs(value: string | undefined): { clientId?: string; thimUrl?: string } {
  if (!value) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    throw new InvalidArgument('SkrSideCarArgs is not base64 JSON');
  }
  if (typeof doc !== 'object' || doc === null) throw new InvalidArgument('SkrSideCarArgs must be a JSON object');
  const d = doc as { identity?: { client_id?: unknown }; certcache?: { endpoint_type?: unknown; endpoint?: unknown } };
  const out: { clientId?: string; thimUrl?: string } = {};
  if (typeof d.identity?.client_id === 'string' && d.identity.client_id) out.clientId = d.identity.client_id;
  if (d.certcache?.endpoint_type === 'LocalTHIM' && typeof d.certcache.endpoint === 'string') {
    out.thimUrl = /^https?:\/\//.test(d.certcache.endpoint) ? d.certcache.endpoint : `http://${d.certcache.endpoint}`;
  }
  return out;
}

export function loadSidecarConfig({ flags, env }: SidecarInputs): SidecarConfig {
  const skrArgs = parseSkrSideCarArgs(pick(flags, env, 'skr-args', 'SkrSideCarArgs'));
  const device = pick(flags, env, 'device', 'SKR_DEVICE') ?? 'auto';
  if (!isDeviceChoice(device)) throw new InvalidArgument(`device must be ${describeDeviceChoices()}`);
  const maaRaw = pick(flags, env, 'maa-endpoint', 'SKR_MAA_ENDPOINT');
  const akvRaw = pick(flags, env, 'akv-endpoint', 'SKR_AKV_ENDPOINT');
  const maaEndpoint = maaRaw ? normaliseEndpoint(maaRaw, 'maa endpoint') : undefined;
  const akvEndpoint = akvRaw ? normaliseEndpoint(akvRaw, 'akv endpoint') : undefined;
  const kbsRaw = pick(flags, env, 'kbs-url', 'SKR_KBS_URL');
  const kbsEndpoint = kbsRaw ? normaliseEndpoint(kbsRaw, 'kbs url') : undefined;
  const allowRaw = pick(flags, env, 'allow', 'SKR_ALLOWED_ENDPOINTS');
  const allowed = new Set<string>([maaEndpoint, akvEndpoint].filter((e): e is string => e !== undefined));
  for (const entry of (allowRaw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean))
    allowed.add(normaliseEndpoint(entry, 'allowed endpoint'));
  const bits = integer(pick(flags, env, 'tee-key-bits', 'SKR_TEE_KEY_BITS'), 'tee key bits', 2048, 3072, 2048);
  if (bits !== 2048 && bits !== 3072) throw new InvalidArgument('tee key bits must be 2048 or 3072');
  const product = pick(flags, env, 'product', 'SKR_DEFAULT_PRODUCT') ?? 'Milan';
  if (!isProduct(product)) throw new InvalidArgument('product must be Milan, Genoa or Turin');
  const host = pick(flags, env, 'host', 'SKR_HOST') ?? '127.0.0.1';
  return {
    host,
    port: integer(pick(flags, env, 'port', 'SKR_PORT'), 'port', 0, 65535, 8080),
    device,
    devicePath: pick(flags, env, 'device-path', 'SKR_DEVICE_PATH'),
    stateDir: pick(flags, env, 'state-dir', 'SKR_STATE_DIR') ?? '.state',
    maaEndpoint,
    akvEndpoint,
    kbsEndpoint,
    allowedEndpoints: allowed,
    teeKeyBits: bits,
    teeKeyTtlSeconds: integer(pick(flags, env, 'tee-key-ttl', 'SKR_TEE_KEY_TTL'), 'tee key ttl', 60, 7 * 86400, 3600),
    freshPerRelease: boolean(pick(flags, env, 'fresh-per-release', 'SKR_FRESH_PER_RELEASE'), 'fresh per release', false),
    identityClientId: pick(flags, env, 'client-id', 'AZURE_CLIENT_ID') ?? skrArgs.clientId,
    caPems: [],
    timeoutMs: integer(pick(flags, env, 'timeout-ms', 'SKR_TIMEOUT_MS'), 'timeout', 100, 120_000, 10_000),
    deviceConcurrency: integer(pick(flags, env, 'device-concurrency', 'SKR_DEVICE_CONCURRENCY'), 'device concurrency', 1, 64, 4),
    user: pick(flags, env, 'user', 'SKR_USER') ?? 'nobody',
    defaultProduct: product,
    securityContextDir: env.UVM_SECURITY_CONTEXT_DIR,
    thimUrl: skrArgs.thimUrl,
    useKds: pick(flags, env, 'kds', 'SKR_USE_KDS') !== 'false',
  };
}
