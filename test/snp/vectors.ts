import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTOR_EXPECTATIONS } from './vector-expectations';

export const FIXTURES = join(__dirname, '..', 'fixtures');

/** A time inside every genuine VEK's validity (the AWS VLEK expired 2025-12-10; the GCP VCEK starts 2025-12-05). */
export const VECTOR_TIME = new Date('2025-12-06T12:00:00Z');

export interface Vector {
  id: string;
  report: Buffer;
  vek: Buffer;
}

export const VECTOR_IDS = Object.keys(VECTOR_EXPECTATIONS);

export function loadVector(id: string): Vector {
  const dir = join(FIXTURES, 'snp', id);
  return { id, report: readFileSync(join(dir, 'report.bin')), vek: readFileSync(join(dir, 'vek.der')) };
}

export function fixture(...parts: string[]): Buffer {
  return readFileSync(join(FIXTURES, ...parts));
}
