/**
 * A fixed pool of decode workers (node:worker_threads): each upload goes to the worker with the fewest
 * jobs in flight. A worker that dies is replaced; its jobs fail with 503 rather than hang.
 */
import { Worker } from 'node:worker_threads';
import type Sharp from 'sharp';
import { lazyRequire } from '../core/lazy-require.js';
import type { ImageSpec } from '../datasets/images.js';
import type { DecodeJob, DecodeResult } from './decode-worker.js';
import { UploadError } from './decode-image.js';

const sharp = lazyRequire<typeof Sharp>('sharp');

interface Slot {
  worker: Worker | null;
  readonly pending: Map<number, { resolve: (p: Float32Array) => void; reject: (e: unknown) => void }>;
}

/**
 * @example
 * const pool = new DecodePool(2, { height: 128, width: 64, channels: 3 }, 16_000_000);
 * const pixels = await pool.decode(bytes); // H×W×C normalised floats, or an UploadError
 * await pool.close();
 */
export class DecodePool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    size: number,
    private readonly spec: ImageSpec,
    private readonly maxPixels: number,
  ) {
    sharp(); // sharp's native module loads in the main thread before any worker (sharp's advice for worker threads)
    for (let i = 0; i < Math.max(1, size); i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const slot: Slot = { worker: null, pending: new Map() };
    this.start(slot);
    return slot;
  }

  /** Starts (or restarts) the slot's worker. */
  private start(slot: Slot): void {
    const worker = new Worker(new URL('./decode-worker.js', import.meta.url));
    slot.worker = worker;
    worker.on('message', (result: DecodeResult) => {
      const job = slot.pending.get(result.id);
      if (job === undefined) return;
      slot.pending.delete(result.id);
      if ('pixels' in result) job.resolve(result.pixels);
      else job.reject(new UploadError(result.error.status, result.error.code, result.error.message));
    });
    let failed = false;
    const fail = (why: string): void => {
      if (failed || this.closed) return;
      failed = true;
      for (const job of slot.pending.values()) job.reject(new UploadError(503, 'decoder.failed', `the image decoder stopped (${why}); try again`));
      slot.pending.clear();
      this.start(slot);
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
  }

  /** The upload's pixels (H×W×C, normalised), decoded in a worker. */
  decode(bytes: Uint8Array): Promise<Float32Array> {
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker!.postMessage({ id, bytes, spec: this.spec, maxPixels: this.maxPixels } satisfies DecodeJob);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => (s.worker === null ? Promise.resolve(0) : s.worker.terminate())));
  }
}
