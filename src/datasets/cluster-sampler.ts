/**
 * The batch order of Cluster-Contrast (Dai et al. 2021: RandomMultipleGallerySampler cycled by an
 * IterLoader for a fixed number of iterations): the clusters in shuffled cycles, K images of a cluster
 * per visit, P distinct clusters per batch, for as many steps as the epoch asks. Clusters are drawn
 * uniformly whatever their size, as in the authors' code: a cluster that DBSCAN chained over most of
 * the target is one of P per batch, not the bulk of the epoch (the P×K sampler of src/datasets/samplers.ts
 * cuts its epoch short instead: it ends when no P distinct identities have images left).
 */
import { PulError } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import type { Sampler } from './samplers.js';

/** Options of clusterCycleSampler. */
export interface ClusterCycleOptions {
  /** Clusters per batch (≤ the number of clusters). */
  readonly p: number;
  /** Images per cluster per batch; a cluster of fewer images repeats some. */
  readonly k: number;
  /** Batches per epoch. */
  readonly steps: number;
  /** The option named in errors (default 'training.pk'). */
  readonly option?: string;
}

/**
 * Sample indices of `steps` P×K batches over `labels` (cluster id ≥ 0 per sample; negative = noise,
 * never drawn). Within a cluster the images go round in a shuffled order, reshuffled when used up, so
 * every member of a cluster is drawn equally often (±1) in an epoch; a batch never holds a cluster twice.
 *
 * @example
 * ```ts
 * const sampler = clusterCycleSampler(pseudoLabels, { p: 16, k: 4, steps: 400 }); // Dai et al.'s 400 iterations
 * const order = sampler.order(0, new Rng(1)); // 400 · 64 indices
 * ```
 */
export function clusterCycleSampler(labels: ArrayLike<number>, opts: ClusterCycleOptions): Sampler {
  const option = opts.option ?? 'training.pk';
  for (const [key, v] of [['P', opts.p], ['K', opts.k], ['steps per epoch', opts.steps]] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new PulError('option.outOfRange', `${key}=${v} must be a positive integer`, { option });
  }
  const byCluster = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c < 0) continue;
    const list = byCluster.get(c);
    if (list) list.push(i);
    else byCluster.set(c, [i]);
  }
  const members = [...byCluster.keys()].sort((a, b) => a - b).map((c) => byCluster.get(c)!);
  if (members.length < opts.p) {
    throw new PulError('selection.tooSmall', `P=${opts.p} clusters per batch but only ${members.length} clusters`, { option });
  }
  return {
    name: 'pk',
    batchSize: opts.p * opts.k,
    stepsPerEpoch: opts.steps,
    order(_epoch: number, rng: Rng): number[] {
      // each cluster's members not drawn yet in its current round
      const rounds = members.map(() => [] as number[]);
      const nextMember = (c: number): number => {
        if (rounds[c]!.length === 0) rounds[c] = rng.shuffle([...members[c]!]);
        return rounds[c]!.pop()!;
      };
      const all = Array.from(members.keys());
      let cycle: number[] = [];
      let head = 0;
      const order: number[] = [];
      const batch: number[] = [];
      for (let step = 0; step < opts.steps; step++) {
        batch.length = 0;
        while (batch.length < opts.p) {
          let j = head;
          while (j < cycle.length && batch.includes(cycle[j]!)) j++;
          if (j === cycle.length) {
            // the cycle is used up (or holds only clusters already in this batch): a new one follows it
            cycle = [...cycle.slice(head), ...rng.shuffle([...all])];
            head = 0;
            continue;
          }
          [cycle[head], cycle[j]] = [cycle[j]!, cycle[head]!];
          batch.push(cycle[head++]!);
        }
        for (const c of batch) for (let t = 0; t < opts.k; t++) order.push(nextMember(c));
      }
      return order;
    },
  };
}
