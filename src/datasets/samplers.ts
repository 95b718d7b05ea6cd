/**
 * Orders in which to visit samples, seeded: a shuffled pass, the P×K identity sampler of batch-hard
 * triplet training (Hermans et al. 2017), and the samplers training chooses from (`createSampler`):
 * epoch, P×K, inverse-frequency and loss-guided. Repeatable from (seed, epoch); the loss-guided one
 * carries its feedback in a state the checkpoint keeps.
 */
import { PulError } from '../core/errors.js';
import { deriveSeed, Rng } from '../core/random.js';

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
 * One epoch of P×K batches over `labels` (one label per sample; negative or null = unlabelled, never
 * drawn), as torchreid's RandomIdentitySampler: each identity's images are shuffled and cut into
 * chunks of K (an identity with fewer than K images gives one chunk drawn with replacement; a
 * remainder smaller than K waits for another epoch), and each batch takes one chunk from each of P
 * distinct identities, drawn in proportion to their remaining chunks, so an epoch visits about every
 * image once. The number of batches depends on the labels only (see pkEpochBatches), not on the draw.
 * Returns sample indices, P·K per batch, batches back to back; feed it as `order` to iterateBatches.
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
  const members = byIdentity(labels);
  if (members.length < opts.p) {
    throw new PulError('selection.tooSmall', `P=${opts.p} identities per batch but only ${members.length} labelled identities`, { option: 'p' });
  }
  const batches = pkEpochBatches(members.map((m) => m.length), opts);
  // each identity's chunks of K, at most `batches` of them (an identity cannot be in a batch twice)
  const chunks = members.map((m) => {
    if (m.length < opts.k) return [Array.from({ length: opts.k }, () => m[rng.int(m.length)]!)];
    const shuffled = rng.shuffle([...m]);
    return Array.from({ length: Math.min(batches, Math.floor(m.length / opts.k)) }, (_, c) => shuffled.slice(c * opts.k, (c + 1) * opts.k));
  });
  const order: number[] = [];
  for (let left = batches; left > 0; left--) {
    // identities with a chunk for every batch left must be in this one (that keeps the epoch at `batches`)
    const open = chunks.flatMap((c, id) => (c.length > 0 ? [id] : []));
    const forced = open.filter((id) => chunks[id]!.length >= left);
    const picked = forced.length >= opts.p ? rng.shuffle(forced).slice(0, opts.p) : [...forced];
    const rest = open.filter((id) => !picked.includes(id));
    while (picked.length < opts.p) {
      const total = rest.reduce((t, id) => t + chunks[id]!.length, 0);
      let u = rng.next() * total;
      const j = rest.findIndex((id) => (u -= chunks[id]!.length) < 0);
      picked.push(...rest.splice(j < 0 ? rest.length - 1 : j, 1));
    }
    for (const id of picked) order.push(...chunks[id]!.pop()!);
    // an identity left with more chunks than batches remain cannot use them all
    for (const c of chunks) if (c.length > left - 1) c.length = left - 1;
  }
  return order;
}

/** Labelled sample indices by identity, identities in ascending label order. */
function byIdentity(labels: ArrayLike<number | null>): number[][] {
  const byId = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (label === null || label === undefined || label < 0) continue;
    let list = byId.get(label);
    if (!list) byId.set(label, (list = []));
    list.push(i);
  }
  return [...byId.keys()].sort((a, b) => a - b).map((id) => byId.get(id)!);
}

/**
 * Batches of a P×K epoch over identities of `sizes` images: the largest B with Σ min(chunks_i, B) ≥ B·P,
 * chunks_i = max(1, ⌊size_i / K⌋) — the most batches of P distinct identities the chunks can fill.
 */
export function pkEpochBatches(sizes: readonly number[], opts: IdentitySamplerOptions): number {
  const chunks = sizes.map((n) => Math.max(1, Math.floor(n / opts.k)));
  let lo = 0;
  let hi = Math.floor(chunks.reduce((a, b) => a + b, 0) / opts.p);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (chunks.reduce((t, c) => t + Math.min(c, mid), 0) >= mid * opts.p) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The samplers `--sampler` names. `smart` is the mining module's (a nearest-neighbour miner over the whole set, built from the model being trained: smartMiningBatchSource, not createSampler). */
export const SAMPLER_NAMES = ['pk', 'epoch', 'inverse-frequency', 'loss-guided', 'smart'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/** Options of createSampler. */
export interface SamplerOptions {
  /**
   * How the weighted samplers (inverse-frequency, loss-guided) group their draws: 'pk' = P identities
   * × K images (what the pair/triplet losses need), 'epoch' = batches of `batchSize` single draws.
   */
  readonly structure: 'pk' | 'epoch';
  /** Images per batch of the flat samplers. */
  readonly batchSize: number;
  /** Identities × images per identity of a P×K batch. */
  readonly p: number;
  readonly k: number;
  /** Seed of the samplers that replay their history (inverse-frequency). */
  readonly seed: number;
  /** Flat samplers: drop a last incomplete batch (default true). */
  readonly dropLast?: boolean;
  /** The option named in errors about P and K (default '--pk'). */
  readonly option?: string;
}

/** The batches of an epoch, as sample indices; built by createSampler. */
export interface Sampler {
  readonly name: SamplerName;
  /** Images per batch (P·K for the P×K ones). */
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  /** Sample indices of epoch `epoch` (0-based), batch after batch; `rng` is the epoch's own (same epoch → same order). */
  order(epoch: number, rng: Rng): number[];
  /** Each row's own loss after a step (rows = `indices`): the loss-guided sampler learns from it. */
  feedback?(indices: ArrayLike<number>, perAnchor: ArrayLike<number>): void;
  /** What a checkpoint keeps so a resumed run draws the same batches. */
  state?(): Float32Array;
  restore?(saved: Float32Array): void;
}

/** Identities with at least two images (a P×K batch needs a positive for each anchor), as lists of sample indices, by ascending label. */
export function identityGroups(labels: ArrayLike<number | null>): { groups: number[][]; identities: number; singletons: number[] } {
  const members = byIdentity(labels);
  const ids = [...new Set(Array.from(labels).filter((l): l is number => l !== null && l >= 0))].sort((a, b) => a - b);
  return { groups: members.filter((m) => m.length >= 2), identities: members.length, singletons: ids.filter((_, j) => members[j]!.length < 2) };
}

/** Whether the sampler draws P×K batches (pk itself, or a weighted sampler grouped as P×K). */
export function drawsIdentities(name: SamplerName, structure: 'pk' | 'epoch'): boolean {
  return name === 'pk' || (structure === 'pk' && (name === 'inverse-frequency' || name === 'loss-guided'));
}

/**
 * Builds the named sampler over `labels` (one class per sample). P×K samplers draw only identities with
 * two images or more; fewer such identities than P is a `dataset.tooFewImages` error naming the option.
 *
 * @example
 * ```ts
 * const sampler = createSampler('pk', labels, { structure: 'pk', batchSize: 64, p: 16, k: 4, seed: 1 });
 * const order = sampler.order(0, new Rng(1)); // 64 · stepsPerEpoch indices
 * ```
 */
export function createSampler(name: SamplerName, labels: ArrayLike<number>, opts: SamplerOptions): Sampler {
  const option = opts.option ?? '--pk';
  const n = labels.length;
  const pk = drawsIdentities(name, opts.structure);
  if (name === 'smart') {
    throw new PulError('option.invalid', 'sampler smart mines with the model being trained: build it with smartMiningBatchSource (src/mining), not createSampler', { option: '--sampler' });
  }
  if (!pk) {
    if (!(opts.batchSize >= 2 && Number.isInteger(opts.batchSize))) throw new PulError('option.outOfRange', `batch size ${opts.batchSize} must be an integer ≥ 2`, { option: 'training.batchSize' });
    const steps = (opts.dropLast ?? true) ? Math.floor(n / opts.batchSize) : Math.ceil(n / opts.batchSize);
    if (steps === 0) throw new PulError('dataset.empty', `${n} training samples are fewer than one batch of ${opts.batchSize}`, { option: 'training.batchSize' });
    const base = { name, batchSize: opts.batchSize, stepsPerEpoch: steps };
    if (name === 'epoch') return { ...base, order: (_epoch, rng) => shuffledOrder(n, rng) };
    if (name === 'inverse-frequency') return { ...base, ...replayed(opts.seed, (rng, history) => Array.from({ length: steps * opts.batchSize }, () => recorded(history[0]!, drawInverseFrequency(history[0]!, n, rng)))) };
    return { ...base, ...lossGuided(n, (w, rng) => drawWeighted(cumulative(w), steps * opts.batchSize, rng)) };
  }
  for (const [key, v] of [['P', opts.p], ['K', opts.k]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new PulError('option.outOfRange', `${key}=${v} must be a positive integer`, { option });
  }
  const { groups, identities, singletons } = identityGroups(labels);
  if (groups.length < opts.p) {
    const lonely = singletons.length > 0 ? ` (${singletons.length} of the ${identities} have a single image)` : '';
    throw new PulError('dataset.tooFewImages', `P×K batches need P=${opts.p} identities with 2 images or more; the training set has ${groups.length}${lonely}; lower P (${option}) or choose a sampler and loss without P×K batches`, { option });
  }
  const base = { name, batchSize: opts.p * opts.k, stepsPerEpoch: pkEpochBatches(groups.map((m) => m.length), opts) };
  const groupLabels = new Int32Array(n).fill(-1);
  groups.forEach((m, g) => m.forEach((i) => (groupLabels[i] = g)));
  if (name === 'pk') return { ...base, order: (_epoch, rng) => identitySampler(groupLabels, opts, rng) };
  if (name === 'inverse-frequency') {
    // history[0]: the identities drawn; history[1 + g]: the members of identity g drawn
    return {
      ...base,
      ...replayed(
        opts.seed,
        (rng, history) =>
          pkBatches(groups, opts, base.stepsPerEpoch, { take: () => drawInverseFrequency(history[0]!, groups.length, rng), keep: (g) => recorded(history[0]!, g) }, (g) => ({
            take: () => drawInverseFrequency(history[1 + g]!, groups[g]!.length, rng),
            keep: (j) => recorded(history[1 + g]!, j),
          })),
        1 + groups.length,
      ),
    };
  }
  // loss-guided: an identity weighs the mean of its members' weights
  return {
    ...base,
    ...lossGuided(n, (w, rng) => {
      const groupCum = cumulative(groups.map((m) => m.reduce((sum, i) => sum + w[i]!, 0) / m.length));
      const memberCum = groups.map((m) => cumulative(m.map((i) => w[i]!)));
      return pkBatches(groups, opts, base.stepsPerEpoch, { take: () => drawWeighted(groupCum, 1, rng)[0]! }, (g) => ({ take: () => drawWeighted(memberCum[g]!, 1, rng)[0]! }));
    }),
  };
}

/** One draw of an index, and what to do with an accepted one (record it in a history). */
interface Draw {
  take(): number;
  keep?(v: number): number;
}

/** `steps` P×K batches: P distinct identities (groups) per batch, K images each (distinct when the identity has K, else with repeats). */
function pkBatches(groups: readonly (readonly number[])[], o: { readonly p: number; readonly k: number }, steps: number, identity: Draw, member: (g: number) => Draw): number[] {
  const order: number[] = [];
  for (let b = 0; b < steps; b++) {
    for (const g of distinctDraws(o.p, groups.length, identity)) {
      const m = groups[g]!;
      const d = member(g);
      const picks = m.length >= o.k ? distinctDraws(o.k, m.length, d) : Array.from({ length: o.k }, () => (d.keep ? d.keep(d.take()) : d.take()));
      for (const j of picks) order.push(m[j]!);
    }
  }
  return order;
}

/** Appends `v` to `history` and returns it. */
function recorded(history: number[], v: number): number {
  history.push(v);
  return v;
}

/**
 * One draw among 0…n−1 with probability ∝ 1 − p_i, p_i = the share of the earlier draws (`history`)
 * that were i: P(i) = (T − c_i) / ((n − 1)·T). Drawn exactly in O(1): pick one earlier draw s uniformly,
 * then i uniformly among the n − 1 others (Σ_s c_s/T · [i ≠ s]/(n − 1) is that probability). Uniform
 * before any draw.
 */
export function drawInverseFrequency(history: readonly number[], n: number, rng: Rng): number {
  if (n === 1) return 0;
  if (history.length === 0) return rng.int(n);
  const s = history[rng.int(history.length)]!;
  const i = rng.int(n - 1);
  return i >= s ? i + 1 : i;
}

/**
 * `count` distinct values of 0…n−1 (count ≤ n), each from `take` (rejecting repeats), in draw order;
 * `draw.keep` sees each accepted one. After 64·n rejected draws the lowest values not yet taken fill up (a guard that weights of zero cannot loop forever).
 */
function distinctDraws(count: number, n: number, draw: Draw): number[] {
  const picked = new Set<number>();
  for (let tries = 0; picked.size < count; tries++) {
    let v = draw.take();
    if (picked.has(v) && tries >= 64 * n) v = [...Array(n).keys()].find((i) => !picked.has(i))!;
    if (!picked.has(v)) picked.add(draw.keep ? draw.keep(v) : v);
  }
  return [...picked];
}

/** Prefix sums of non-negative weights. */
function cumulative(weights: ArrayLike<number>): Float64Array {
  const cum = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) cum[i] = sum += weights[i]!;
  return cum;
}

/** `count` independent draws with probability ∝ weight (binary search of the prefix sums). */
function drawWeighted(cum: Float64Array, count: number, rng: Rng): number[] {
  const total = cum[cum.length - 1]!;
  return Array.from({ length: count }, () => {
    const u = rng.next() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  });
}

/**
 * A sampler whose epoch e depends on the draws of epochs 0…e−1 (inverse-frequency): it replays them
 * from (seed, epoch) when asked for an epoch out of sequence, so a resumed run needs no saved state.
 * `histories` separate draw histories are kept (one per level of a P×K draw).
 */
function replayed(seed: number, draw: (rng: Rng, history: number[][]) => number[], histories = 1): Pick<Sampler, 'order'> {
  const fresh = (): number[][] => Array.from({ length: histories }, () => []);
  let history = fresh();
  let done = 0;
  let last: number[] = [];
  return {
    order(epoch: number): number[] {
      if (epoch < done - 1) {
        history = fresh();
        done = 0;
      }
      while (done <= epoch) last = draw(new Rng(deriveSeed(seed, done++, 'inverse-frequency')), history);
      return [...last];
    },
  };
}

/** Share of its draw probability a sample keeps when its triplets give zero loss every time (never starved). */
const LOSS_GUIDED_FLOOR = 0.1;
/** Weight of the past in a sample's score: score ← DECAY·score + (1 − DECAY)·[its loss > 0]. */
const LOSS_GUIDED_DECAY = 0.5;

/**
 * The loss-guided sampler's state and feedback: each sample has a score in [0, 1] (start 1), a running
 * average of whether its own loss term was non-zero; an epoch draws with weight FLOOR + (1 − FLOOR)·score,
 * so samples whose triplets keep giving zero loss are drawn up to 10× less. The weights are fixed at the
 * start of an epoch (the order of an epoch depends only on the scores saved after the previous one).
 */
function lossGuided(n: number, draw: (weights: Float64Array, rng: Rng) => number[]): Pick<Sampler, 'order' | 'feedback' | 'state' | 'restore'> {
  const scores = new Float32Array(n).fill(1);
  return {
    order: (_epoch, rng) => draw(Float64Array.from(scores, (s) => LOSS_GUIDED_FLOOR + (1 - LOSS_GUIDED_FLOOR) * s), rng),
    feedback(indices, perAnchor) {
      for (let r = 0; r < indices.length; r++) {
        const i = indices[r]!;
        scores[i] = LOSS_GUIDED_DECAY * scores[i]! + (1 - LOSS_GUIDED_DECAY) * (perAnchor[r]! > 0 ? 1 : 0);
      }
    },
    state: () => scores.slice(),
    restore(saved) {
      if (saved.length !== n) throw new PulError('checkpoint.mismatch', `the saved loss-guided sampler state covers ${saved.length} samples, this training ${n}`);
      scores.set(saved);
    },
  };
}
