import type { Static } from '@sinclair/typebox';
import { KeyRotatedMeanwhile, KmsBadParameter } from '../../errors';
import type { KeyVersion, RotationLifetimeAction, RotationPolicy } from '../model';
import type { RotationPolicyBody } from '../wire/schemas';
import type { KmsCore } from './core';
import { rotateKey } from './keys';

/** Key rotation policies (Key Vault's `rotationpolicy`) and the sweep that applies them. */

const DAY = 86_400;
const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const UNITS = [365 * DAY, 30 * DAY, 7 * DAY, DAY, 3600, 60, 1];

/** ISO 8601 duration in seconds (years and months counted as 365 and 30 days, as Key Vault does). */
export function durationSeconds(value: string, field: string): number {
  const match = DURATION.exec(value);
  if (!match || value === 'P' || value.endsWith('T')) throw new KmsBadParameter(`${field} must be an ISO 8601 duration such as P90D`);
  return UNITS.reduce((total, unit, i) => total + Number(match[i + 1] ?? 0) * unit, 0);
}

/** What GET answers for a key without a policy: Key Vault's default, notify 30 days before expiry. */
export const DEFAULT_LIFETIME_ACTIONS: RotationLifetimeAction[] = [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }];

/** A rotation policy as the route's schema has checked it: types hold, the rules between fields are checked here. */
export type RotationPolicyInput = Static<typeof RotationPolicyBody>;
type LifetimeActionInput = NonNullable<RotationPolicyInput['lifetimeActions']>[number];

function parseAction(sent: LifetimeActionInput): RotationLifetimeAction {
  const after = sent.trigger?.timeAfterCreate ?? undefined;
  const before = sent.trigger?.timeBeforeExpiry ?? undefined;
  if ((after === undefined) === (before === undefined)) throw new KmsBadParameter('a trigger needs exactly one of timeAfterCreate and timeBeforeExpiry');
  const type = sent.action?.type?.toLowerCase();
  if (type !== 'rotate' && type !== 'notify') throw new KmsBadParameter('action.type must be Rotate or Notify');
  if (after !== undefined && type === 'rotate' && durationSeconds(after, 'timeAfterCreate') < 7 * DAY) throw new KmsBadParameter('timeAfterCreate of a Rotate action must be at least 7 days');
  if (before !== undefined) durationSeconds(before, 'timeBeforeExpiry');
  return { trigger: after !== undefined ? { timeAfterCreate: after } : { timeBeforeExpiry: before }, action: { type: type === 'rotate' ? 'Rotate' : 'Notify' } };
}

export function getRotationPolicy(core: KmsCore, name: string): Promise<RotationPolicy | undefined> {
  return core.store.rotationPolicy(name);
}

export async function setRotationPolicy(core: KmsCore, name: string, b: RotationPolicyInput): Promise<RotationPolicy> {
  const lifetimeActions = (b.lifetimeActions ?? []).map(parseAction);
  if (new Set(lifetimeActions.map((a) => a.action.type)).size !== lifetimeActions.length) throw new KmsBadParameter('at most one Rotate and one Notify action');
  const expiryTime = b.attributes?.expiryTime ?? undefined;
  if (expiryTime !== undefined && durationSeconds(expiryTime, 'expiryTime') < 28 * DAY) throw new KmsBadParameter('expiryTime must be at least 28 days');
  const now = core.now();
  const created = (await core.store.rotationPolicy(name))?.created ?? now;
  return core.store.setRotationPolicy(name, { lifetimeActions, ...(expiryTime ? { expiryTime } : {}), created, updated: now });
}

/**
 * `POST /keys/{name}/rotate`: a new version, expiring as the key's rotation policy says. With
 * `ifLatest` (the sweep), only while that version is still the latest (KeyRotatedMeanwhile otherwise).
 */
export async function rotateNow(core: KmsCore, name: string, options: { ifLatest?: string } = {}): Promise<KeyVersion> {
  const policy = await core.store.rotationPolicy(name);
  return rotateKey(core, name, policy?.expiryTime ? durationSeconds(policy.expiryTime, 'expiryTime') : undefined, options);
}

/** Rotates every key whose Rotate action is due; returns the names rotated. */
export async function rotateDueKeys(core: KmsCore): Promise<string[]> {
  const now = core.now();
  const rotated: string[] = [];
  for (const { latest, policy } of await core.store.keysWithRotationPolicy()) {
    const rotate = policy.lifetimeActions.find((a) => a.action.type === 'Rotate');
    if (!rotate) continue;
    const { timeAfterCreate, timeBeforeExpiry } = rotate.trigger;
    const due =
      (timeAfterCreate !== undefined && now >= latest.attributes.created + durationSeconds(timeAfterCreate, 'timeAfterCreate')) ||
      (timeBeforeExpiry !== undefined && latest.attributes.exp !== undefined && now >= latest.attributes.exp - durationSeconds(timeBeforeExpiry, 'timeBeforeExpiry'));
    if (!due) continue;
    // Another replica's sweep may rotate the same key at the same moment: one of them adds the version.
    try {
      await rotateNow(core, latest.name, { ifLatest: latest.version });
    } catch (error) {
      if (error instanceof KeyRotatedMeanwhile) continue;
      throw error;
    }
    rotated.push(latest.name);
  }
  return rotated;
}
