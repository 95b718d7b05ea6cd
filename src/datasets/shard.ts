/**
 * `--shard i/n`: a deterministic split of a sample list into n independent jobs (any batch scheduler
 * can run them), their outputs merged later by `pul index --features DIR…`. The list is sorted by path
 * first, so the split depends only on which samples there are, not on the order a loader found them.
 */
import { PulError } from '../core/errors.js';
import type { Sample } from './sample.js';

/** Job `index` (1-based) of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses 'i/n' (1 ≤ i ≤ n); errors name `option`. */
export function parseShard(text: string, option = '--shard'): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new PulError('option.invalid', `expected i/n with 1 ≤ i ≤ n, e.g. 2/8 (${option})`, { option });
  return { index, count };
}

/**
 * The samples of shard i/n: the i-th of n contiguous, near-equal blocks of the list sorted by path.
 * The n shards are disjoint and together hold every sample.
 * @example
 * shardSamples(dataset.samples, { index: 1, count: 4 }); // the first quarter, by path
 */
export function shardSamples(samples: readonly Sample[], shard: Shard): Sample[] {
  const sorted = [...samples].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const start = Math.floor(((shard.index - 1) * sorted.length) / shard.count);
  const end = Math.floor((shard.index * sorted.length) / shard.count);
  return sorted.slice(start, end);
}
