import { InvalidArgument, ReleasePolicyNotSatisfied } from '../errors';
import { evaluateReleasePolicy, parseReleasePolicy, releaseDenied, type ReleasePolicy } from '../kms/policy';
import { readIfExists, writeFileAtomic } from '../lib/state-file';
import { formatResourcePath, isSegment, type ResourcePath } from './resource-path';

/**
 * Resource policies: Key Vault release policies (the same grammar, engine and explanations as
 * the KMS's, src/kms/policy) attached to a resource path or to a prefix of one, whole segments
 * only: `default` covers `default/*\/*`, `default/demo` covers `default/demo/*`, and
 * `default/demo` never covers `default/demo-x/...`. The longest attached prefix decides;
 * a path no policy covers is denied. Persisted as one JSON file written atomically.
 */
export interface AttachedPolicy {
  prefix: string;
  policy: unknown;
}

export function parsePrefix(segments: readonly string[]): string {
  if (segments.length < 1 || segments.length > 3 || !segments.every(isSegment)) {
    throw new InvalidArgument('a policy prefix is 1 to 3 resource path segments: repository[/type[/tag]]', { field: 'prefix' });
  }
  return segments.join('/');
}

export class ResourcePolicies {
  private attached = new Map<string, { document: unknown; policy: ReleasePolicy }>();
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(private readonly path: string) {}

  static async open(path: string): Promise<ResourcePolicies> {
    const store = new ResourcePolicies(path);
    const raw = await readIfExists(path);
    if (raw) {
      try {
        const doc = JSON.parse(raw.toString('utf8')) as { policies?: AttachedPolicy[] };
        for (const entry of doc.policies ?? []) store.attached.set(parsePrefix(String(entry.prefix).split('/')), { document: entry.policy, policy: parseReleasePolicy(entry.policy as object) });
      } catch (error) {
        throw new InvalidArgument(`resource policies ${path} are corrupt: ${(error as Error).message}`);
      }
    }
    return store;
  }

  list(): AttachedPolicy[] {
    return [...this.attached].map(([prefix, { document }]) => ({ prefix, policy: document }));
  }

  /** Attaches `document` (validated first) at `prefix`; resolves once durable. */
  set(prefix: string, document: unknown): Promise<void> {
    const policy = parseReleasePolicy(document as object);
    return this.mutate((next) => next.set(prefix, { document, policy }));
  }

  /** Detaches the policy at `prefix`; resolves to whether there was one. */
  async delete(prefix: string): Promise<boolean> {
    if (!this.attached.has(prefix)) return false;
    await this.mutate((next) => next.delete(prefix));
    return true;
  }

  /** The prefix that governs `path`: the longest attached one, or undefined. */
  governing(path: ResourcePath): string | undefined {
    for (let length = 3; length >= 1; length--) {
      const prefix = path.slice(0, length).join('/');
      if (this.attached.has(prefix)) return prefix;
    }
    return undefined;
  }

  /** Throws ReleasePolicyNotSatisfied (403, with the explanation) unless the governing policy allows the claims. */
  authorize(path: ResourcePath, claims: Record<string, unknown>, issuer: string): { prefix: string } {
    const resource = formatResourcePath(path);
    const prefix = this.governing(path);
    if (prefix === undefined) {
      throw new ReleasePolicyNotSatisfied(`no resource policy covers ${resource}: denied by default`, { reason: 'no_policy', resource });
    }
    const decision = evaluateReleasePolicy(this.attached.get(prefix)!.policy, claims, issuer);
    if (!decision.allowed) throw releaseDenied(decision, { resource, policyPrefix: prefix });
    return { prefix };
  }

  private mutate(change: (next: Map<string, { document: unknown; policy: ReleasePolicy }>) => void): Promise<void> {
    const run = this.writes.then(async () => {
      const next = new Map(this.attached);
      change(next);
      const policies = [...next].map(([prefix, { document }]) => ({ prefix, policy: document }));
      await writeFileAtomic(this.path, `${JSON.stringify({ policies }, null, 2)}\n`, 0o600);
      this.attached = next;
    });
    this.writes = run.catch(() => undefined);
    return run;
  }
}
