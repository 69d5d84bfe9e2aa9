import { availableParallelism } from 'node:os';
import { privateDecrypt, privateEncrypt, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { InternalError } from '../errors';

/**
 * RSA private-key operations (privateDecrypt, privateEncrypt) that keep the event loop free.
 * node:crypto has no asynchronous form of either, and one RSA-4096 private operation holds the
 * thread for milliseconds, so keys of OFF_LOOP_MODULUS_BITS or more are handed to a small,
 * fixed pool of worker threads (the KeyObject is cloned to the worker; the key never leaves the
 * process). Smaller keys (the RSA-2048 TEE key of every release) run inline: their operation
 * is short, and a hop to a worker would add to each release's latency. Signing a message (not a digest) needs no pool: the callback form of
 * crypto.sign already runs on libuv's threads (src/lib/jws.ts).
 */
const OFF_LOOP_MODULUS_BITS = 3072;

export interface RsaPrivateRequest {
  /** `decrypt`: privateDecrypt; `encrypt`: privateEncrypt (a signature's raw RSA step). */
  op: 'decrypt' | 'encrypt';
  key: KeyObject;
  padding: number;
  oaepHash?: string;
  data: Uint8Array;
}

const POOL_SIZE = Math.max(1, Math.min(4, availableParallelism()));

// Plain JavaScript evaluated in the worker, so it runs the same from dist/ and under ts-jest.
// The result is cloned by postMessage, then the worker's copy is zeroed; failures carry no
// message, so nothing about the padding reaches the caller.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { privateDecrypt, privateEncrypt } = require('node:crypto');
parentPort.on('message', ({ id, op, key, padding, oaepHash, data }) => {
  let out;
  try {
    out = (op === 'decrypt' ? privateDecrypt : privateEncrypt)({ key, padding, oaepHash }, data);
  } catch {
    parentPort.postMessage({ id });
    return;
  }
  parentPort.postMessage({ id, out });
  out.fill(0);
});
`;

interface Pending {
  resolve(out: Buffer | undefined): void;
  reject(error: Error): void;
}

interface Task {
  request: RsaPrivateRequest;
  pending: Pending;
}

interface PoolWorker {
  worker: Worker;
  /** The id of the task it runs, or undefined when idle. */
  busyWith?: number;
  pending?: Pending;
}

class RsaWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;

  run(request: RsaPrivateRequest): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, pending: { resolve, reject } });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.workers.find((w) => w.busyWith === undefined) ?? (this.workers.length < POOL_SIZE ? this.spawn() : undefined);
      if (!slot) return;
      const { request, pending } = this.queue.shift()!;
      const id = this.nextId++;
      slot.busyWith = id;
      slot.pending = pending;
      slot.worker.ref();
      const { op, key, padding, oaepHash, data } = request;
      // A copy of its own: cloning a view clones its whole ArrayBuffer (a Buffer's may be a shared pool).
      slot.worker.postMessage({ id, op, key, padding, oaepHash, data: new Uint8Array(data) });
    }
  }

  private spawn(): PoolWorker {
    const slot: PoolWorker = { worker: new Worker(WORKER_SOURCE, { eval: true }) };
    slot.worker.unref();
    slot.worker.on('message', (message: { id: number; out?: Uint8Array }) => {
      const pending = slot.pending;
      if (message.id !== slot.busyWith || !pending) return;
      this.release(slot);
      pending.resolve(message.out && Buffer.from(message.out.buffer, message.out.byteOffset, message.out.byteLength));
      this.dispatch();
    });
    // A worker that dies fails its task and is replaced by the next dispatch.
    slot.worker.on('error', () => undefined);
    slot.worker.on('exit', () => {
      const pending = slot.pending;
      this.workers.splice(this.workers.indexOf(slot), 1);
      slot.pending = undefined;
      slot.busyWith = undefined;
      pending?.reject(new InternalError('the RSA worker thread stopped'));
      this.dispatch();
    });
    this.workers.push(slot);
    return slot;
  }

  private release(slot: PoolWorker): void {
    slot.busyWith = undefined;
    slot.pending = undefined;
    slot.worker.unref();
  }
}

const pool = new RsaWorkerPool();

/**
 * Runs the operation on a worker thread for moduli of OFF_LOOP_MODULUS_BITS or more, inline
 * otherwise. Undefined when it fails (bad padding, a block not below the modulus): without the
 * reason, so callers answer every failure alike and leak nothing about the padding.
 */
export async function rsaPrivate(request: RsaPrivateRequest): Promise<Buffer | undefined> {
  if ((request.key.asymmetricKeyDetails?.modulusLength ?? 0) >= OFF_LOOP_MODULUS_BITS) return pool.run(request);
  const { op, key, padding, oaepHash, data } = request;
  try {
    return (op === 'decrypt' ? privateDecrypt : privateEncrypt)({ key, padding, oaepHash }, data);
  } catch {
    return undefined;
  }
}
