/**
 * The batch iterator that training and feature extraction consume: decodes samples into
 * normalised Float32Array batches (HWC), optionally augmented, with a bounded prefetch queue so
 * the next batches decode (on sharp's threads) while the current one is being used.
 */
import { PulError } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import { augmentImage, validateAugment, type AugmentOptions } from './augment.js';
import { ImageReader, type ImageSpec } from './images.js';
import type { Sample } from './sample.js';

/** Options of iterateBatches. Sizes in pixels; the image layout is H×W×C. */
export interface BatchOptions extends ImageSpec {
  /** Images per batch (the last batch may be smaller unless dropLast). */
  readonly batchSize: number;
  /** Sample indices to visit, in order (e.g. shuffledOrder or identitySampler); default 0…n−1. */
  readonly order?: readonly number[];
  /** Augmentations; needs `rng`. Default none (feature extraction). */
  readonly augment?: AugmentOptions;
  /** Source of augmentation randomness; one fork per batch, drawn in batch order (deterministic). */
  readonly rng?: Rng;
  /** Batches decoded ahead of the one being consumed (default 2; 0 = decode on demand). */
  readonly prefetch?: number;
  /** Images of one batch decoded at the same time (default 8). */
  readonly concurrency?: number;
  /** Decoder to use (keep one across epochs so images are decoded once); default a new one that caches nothing (one pass). */
  readonly reader?: ImageReader;
  /** Drop a final batch smaller than batchSize (default false). */
  readonly dropLast?: boolean;
  /** Leave corrupt images out of their batch (reported in Batch.skipped) instead of throwing. */
  readonly skipBad?: boolean;
  /** Stops the iteration (throws `interrupted`) when aborted. */
  readonly signal?: AbortSignal;
}

/** One batch: `pixels` holds shape[0] images of shape[1]×shape[2]×shape[3] floats, HWC, row-major. */
export interface Batch {
  readonly pixels: Float32Array;
  readonly shape: readonly [number, number, number, number];
  /** Index into `samples` of each image of the batch, in order. */
  readonly indices: Int32Array;
  /** Paths of corrupt images left out of this batch (only with skipBad). */
  readonly skipped: readonly string[];
}

/**
 * Iterates over `samples` in batches of decoded, normalised (and optionally augmented) images.
 *
 * @example
 * ```ts
 * const rng = new Rng(1);
 * for await (const b of iterateBatches(samples, { batchSize: 32, height: 128, width: 64, channels: 3,
 *   order: shuffledOrder(samples.length, rng), augment: REID_AUGMENT, rng })) {
 *   const x = tf.tensor4d(b.pixels, [...b.shape]); // …train on x, labels of b.indices…
 *   x.dispose();
 * }
 * ```
 */
export async function* iterateBatches(samples: readonly Sample[], opts: BatchOptions): AsyncGenerator<Batch, void, undefined> {
  validateBatchOptions(opts);
  const order = opts.order ?? samples.map((_, i) => i);
  for (const i of order) {
    if (!(Number.isInteger(i) && i >= 0 && i < samples.length)) {
      throw new PulError('option.outOfRange', `order holds index ${i}, outside 0…${samples.length - 1}`, { option: 'order' });
    }
  }
  const reader = opts.reader ?? new ImageReader({ cacheBytes: 0 });
  const prefetch = opts.prefetch ?? 2;
  const starts: number[] = [];
  for (let s = 0; s < order.length; s += opts.batchSize) {
    if (opts.dropLast && s + opts.batchSize > order.length) break;
    starts.push(s);
  }
  const queue: Promise<Batch>[] = [];
  let next = 0;
  const schedule = (): void => {
    const start = starts[next++];
    if (start === undefined) return;
    const idx = order.slice(start, start + opts.batchSize);
    const rng = opts.augment ? opts.rng?.fork() : undefined; // forked now, in batch order
    const p = decodeBatch(samples, idx, opts, reader, rng);
    p.catch(() => undefined); // rejection is delivered when the batch is awaited
    queue.push(p);
  };
  for (let i = 0; i <= prefetch; i++) schedule();
  while (queue.length > 0) {
    if (opts.signal?.aborted) throw new PulError('interrupted', 'batch iteration was aborted');
    const batch = await (queue.shift() as Promise<Batch>);
    schedule();
    yield batch;
  }
}

function validateBatchOptions(opts: BatchOptions): void {
  const positiveInt = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new PulError('option.outOfRange', `${name}=${v} must be a positive integer`, { option: name });
  };
  positiveInt('batchSize', opts.batchSize);
  positiveInt('height', opts.height);
  positiveInt('width', opts.width);
  positiveInt('concurrency', opts.concurrency);
  if (opts.channels !== 1 && opts.channels !== 3) throw new PulError('option.outOfRange', `channels=${String(opts.channels)} must be 1 or 3`, { option: 'channels' });
  if (opts.prefetch !== undefined && !(Number.isInteger(opts.prefetch) && opts.prefetch >= 0)) {
    throw new PulError('option.outOfRange', `prefetch=${opts.prefetch} must be a non-negative integer`, { option: 'prefetch' });
  }
  if (opts.augment) {
    validateAugment(opts.augment);
    if (!opts.rng) throw new PulError('option.invalid', 'augmentation needs an rng (BatchOptions.rng)', { option: 'rng' });
  }
}

async function decodeBatch(samples: readonly Sample[], idx: readonly number[], opts: BatchOptions, reader: ImageReader, rng: Rng | undefined): Promise<Batch> {
  const { height: h, width: w, channels: c } = opts;
  const size = h * w * c;
  const pixels = new Float32Array(idx.length * size);
  const ok = new Array<boolean>(idx.length).fill(true);
  const skipped: string[] = [];
  let cursor = 0;
  const worker = async (): Promise<void> => {
    for (let j = cursor++; j < idx.length; j = cursor++) {
      const sample = samples[idx[j]!]!;
      try {
        await reader.read(sample.path, opts, pixels, j * size);
      } catch (err) {
        if (!(opts.skipBad && err instanceof PulError && err.code === 'image.corrupt')) throw err;
        ok[j] = false;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, idx.length) }, worker));
  // keep only decoded images, compacting in place, then augment in order (deterministic under the seed)
  let kept = 0;
  const indices: number[] = [];
  for (let j = 0; j < idx.length; j++) {
    if (!ok[j]) {
      skipped.push(samples[idx[j]!]!.path);
      continue;
    }
    if (kept !== j) pixels.copyWithin(kept * size, j * size, (j + 1) * size);
    indices.push(idx[j]!);
    kept++;
  }
  const out = kept === idx.length ? pixels : pixels.slice(0, kept * size);
  if (opts.augment && rng) {
    const scratch = new Float32Array(size);
    for (let j = 0; j < kept; j++) augmentImage(out, j * size, [h, w, c], opts.augment, rng, scratch);
  }
  return { pixels: out, shape: [kept, h, w, c], indices: Int32Array.from(indices), skipped };
}
