/**
 * Orders in which to visit samples, seeded: a shuffled pass, and the P×K identity sampler of
 * batch-hard triplet training (Hermans et al. 2017): P identities × K images per batch.
 */
import { PulError } from '../core/errors.js';
import type { Rng } from '../core/random.js';

/** 0…n−1 in a random order drawn from `rng`. */
export function shuffledOrder(n: number, rng: Rng): number[] {
  return rng.shuffle(Array.from({ length: n }, (_, i) => i));
}

/** Options of the P×K sampler. */
export interface IdentitySamplerOptions {
  /** Identities per batch. */
  readonly p: number;
  /** Images per identity per batch (identities with fewer images are sampled with replacement). */
  readonly k: number;
}

/**
 * One epoch of P×K batches over `labels` (one label per sample; negative or null = unlabelled,
 * never drawn). Returns sample indices, P·K per batch, batches back to back; every identity
 * appears once per epoch, in random order; the last incomplete group of identities is dropped.
 * Feed the result as `order` to iterateBatches with batchSize = P·K.
 *
 * @example
 * ```ts
 * const order = identitySampler(pseudoLabels, { p: 16, k: 4 }, rng); // batches of 64
 * for await (const b of iterateBatches(samples, { batchSize: 64, height: 128, width: 64, channels: 3, order })) { … }
 * ```
 */
export function identitySampler(labels: ArrayLike<number | null>, opts: IdentitySamplerOptions, rng: Rng): number[] {
  if (!(Number.isInteger(opts.p) && opts.p >= 1)) throw new PulError('option.outOfRange', `P=${opts.p} must be a positive integer`, { option: 'p' });
  if (!(Number.isInteger(opts.k) && opts.k >= 1)) throw new PulError('option.outOfRange', `K=${opts.k} must be a positive integer`, { option: 'k' });
  const byId = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label === null || label === undefined || label < 0) continue;
    let list = byId.get(label);
    if (!list) byId.set(label, (list = []));
    list.push(i);
  }
  if (byId.size < opts.p) {
    throw new PulError('selection.tooSmall', `P=${opts.p} identities per batch but only ${byId.size} labelled identities`, { option: 'p' });
  }
  const ids = rng.shuffle([...byId.keys()].sort((a, b) => a - b));
  const order: number[] = [];
  for (let start = 0; start + opts.p <= ids.length; start += opts.p) {
    for (const id of ids.slice(start, start + opts.p)) {
      const members = byId.get(id) ?? [];
      if (members.length >= opts.k) {
        order.push(...rng.shuffle([...members]).slice(0, opts.k));
      } else {
        for (let j = 0; j < opts.k; j++) order.push(members[rng.int(members.length)]!);
      }
    }
  }
  return order;
}
