import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretClient } from '@azure/keyvault-secrets';
import { KbsResourceConflict, KbsResourceUnavailable, UpstreamFailed } from '../errors';
import { readIfExists, writeFileAtomic } from '../lib/state-file';
import { formatResourcePath, secretNameOf, type ResourcePath } from './resource-path';

/**
 * Where resources live. Both backends name a resource by `secretNameOf(path)`, the documented
 * injective mapping, so a directory of resources and a vault of them hold the same names.
 */
export interface ResourceBackend {
  /** The resource's bytes, or undefined when there is none. */
  read(path: ResourcePath): Promise<Buffer | undefined>;
  write(path: ResourcePath, bytes: Buffer): Promise<void>;
  /** Resolves to whether there was one. */
  remove(path: ResourcePath): Promise<boolean>;
}

/**
 * Secrets hold text; a resource is bytes. The KBS stores them base64, marked by the tag
 * `kbs-encoding: base64`, and reads a secret so marked — or with this content type, which
 * tools that send one (az CLI, the portal) may set — as base64, any other as its UTF-8 text.
 * The mark is a tag because `@azure/keyvault-secrets` 4.11's setSecret and
 * updateSecretProperties leave `contentType` out of the request body they send.
 */
export const BASE64_CONTENT_TYPE = 'application/octet-stream; encoding=base64';
const ENCODING_TAG = 'kbs-encoding';

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/**
 * Key Vault secrets through `@azure/keyvault-secrets`: skr kms's secrets data plane or Azure Key
 * Vault, whichever the SecretClient points at. Removing soft-deletes (the vault's retention
 * applies): the name stays taken until the vault purges it.
 */
export class SecretsBackend implements ResourceBackend {
  constructor(
    private readonly client: SecretClient,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The resource's bytes; a secret disabled, expired or not yet valid is refused (KbsResourceUnavailable), never read. */
  async read(path: ResourcePath): Promise<Buffer | undefined> {
    try {
      const secret = await this.client.getSecret(secretNameOf(path));
      const { expiresOn, notBefore } = secret.properties;
      const now = this.now().getTime();
      if (expiresOn && expiresOn.getTime() <= now) throw new KbsResourceUnavailable(formatResourcePath(path), 'expired');
      if (notBefore && notBefore.getTime() > now) throw new KbsResourceUnavailable(formatResourcePath(path), 'not_yet_valid');
      const value = secret.value ?? '';
      const base64 = secret.properties.tags?.[ENCODING_TAG] === 'base64' || secret.properties.contentType === BASE64_CONTENT_TYPE;
      return base64 ? Buffer.from(value, 'base64') : Buffer.from(value, 'utf8');
    } catch (error) {
      if (error instanceof KbsResourceUnavailable) throw error;
      if (statusOf(error) === 404) return undefined;
      // Key Vault's (and skr kms's) refusal of a disabled version: 403 "Operation get is not allowed on a disabled secret."
      if (statusOf(error) === 403 && /disabled secret/i.test((error as Error).message)) throw new KbsResourceUnavailable(formatResourcePath(path), 'disabled');
      throw this.failed(error);
    }
  }

  async write(path: ResourcePath, bytes: Buffer): Promise<void> {
    try {
      await this.client.setSecret(secretNameOf(path), bytes.toString('base64'), { tags: { 'kbs-resource': path.join('/'), [ENCODING_TAG]: 'base64' } });
    } catch (error) {
      if (statusOf(error) === 409) throw new KbsResourceConflict(formatResourcePath(path));
      throw this.failed(error);
    }
  }

  async remove(path: ResourcePath): Promise<boolean> {
    try {
      const poller = await this.client.beginDeleteSecret(secretNameOf(path));
      await poller.pollUntilDone();
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw this.failed(error);
    }
  }

  /** The SDK's message names the vault and status, never a secret value. */
  private failed(error: unknown): UpstreamFailed {
    return new UpstreamFailed('secrets backend', (error as Error).message.split('\n')[0]!.slice(0, 200), { upstreamStatus: statusOf(error) });
  }
}

/** Resources as files named by secretNameOf in one private directory: for tests and single-host use. */
export class DirectoryBackend implements ResourceBackend {
  constructor(private readonly dir: string) {}

  read(path: ResourcePath): Promise<Buffer | undefined> {
    return readIfExists(join(this.dir, secretNameOf(path)));
  }

  write(path: ResourcePath, bytes: Buffer): Promise<void> {
    return writeFileAtomic(join(this.dir, secretNameOf(path)), bytes, 0o600);
  }

  async remove(path: ResourcePath): Promise<boolean> {
    try {
      await unlink(join(this.dir, secretNameOf(path)));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
}
