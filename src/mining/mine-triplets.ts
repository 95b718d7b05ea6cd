/**
 * Smart mining's triplet choice (Harwood et al., ICCV 2017) over neighbours found in the whole training
 * set: for each anchor, its nearest positive in the neighbourhood, and the nearest negative of the
 * neighbourhood that lies farther from the anchor than that positive (the hardest negative that does
 * not already beat the positive: the hardest ones are often label noise and make training collapse).
 * An anchor whose neighbourhood holds no positive, or no such negative, gets a seeded random one
 * instead (counted in the stats: a larger neighbourhood means fewer of them).
 *
 * Samples of a class with a single member are never anchors nor negatives: every mined sample has a
 * positive, so a batch of (anchor, positive, negative, negative's positive) groups has two images of
 * each of its identities and P×K losses (batch-hard, batch-all, N-pair) see no lone identity.
 */
import { PulError } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import type { Neighbours } from './neighbours.js';

/** The mined partners of every sample (−1 for a sample that cannot be an anchor). */
export interface MiningTable {
  /** Samples that can be anchors (their class has ≥ 2 members), ascending. */
  readonly anchors: Int32Array;
  readonly positive: Int32Array;
  readonly negative: Int32Array;
  readonly stats: MiningStats;
}

/** How the table was filled, on the embeddings it was mined from. */
export interface MiningStats {
  readonly anchors: number;
  /** Anchors whose positive / negative came from a random draw (none in the neighbourhood). */
  readonly randomPositives: number;
  readonly randomNegatives: number;
  /** Share of the mined triplets with d(a,p) − d(a,n) + margin > 0 (Euclidean), on these embeddings. */
  readonly activeShare: number;
  /** Mean Euclidean anchor–positive and anchor–negative distances. */
  readonly meanPositiveDistance: number;
  readonly meanNegativeDistance: number;
}

/** Members of each class, and whether each sample can take part (class size ≥ 2). */
function classMembers(labels: Int32Array): { members: Map<number, number[]>; eligible: Uint8Array } {
  const members = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    let list = members.get(y);
    if (!list) members.set(y, (list = []));
    list.push(i);
  }
  const eligible = new Uint8Array(labels.length);
  for (const list of members.values()) if (list.length >= 2) for (const i of list) eligible[i] = 1;
  return { members, eligible };
}

/** Euclidean distance of rows i and j of `m`. */
function distance(m: FeatureMatrix, i: number, j: number): number {
  let s = 0;
  for (let c = 0; c < m.dim; c++) {
    const v = m.data[i * m.dim + c]! - m.data[j * m.dim + c]!;
    s += v * v;
  }
  return Math.sqrt(s);
}

/**
 * The mining table for `labels` (one class per row of `embeddings`) from `neighbours` of those rows.
 * `rng` draws the random fallbacks, anchor by anchor in index order (deterministic).
 *
 * @example
 * ```ts
 * const { neighbours } = findNeighbours(embeddings, 32);
 * const table = mineTriplets(embeddings, labels, neighbours, 0.3, new Rng(seed));
 * const [p, n] = [table.positive[a], table.negative[a]];
 * ```
 */
export function mineTriplets(embeddings: FeatureMatrix, labels: Int32Array, neighbours: Neighbours, margin: number, rng: Rng): MiningTable {
  const n = labels.length;
  if (embeddings.rows !== n || neighbours.rows !== n) {
    throw new PulError('features.mismatch', `${n} labels for ${embeddings.rows} embeddings and ${neighbours.rows} neighbour lists`);
  }
  const { members, eligible } = classMembers(labels);
  const eligibleList: number[] = [];
  const classes = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 1) {
      eligibleList.push(i);
      classes.add(labels[i]!);
    }
  }
  if (classes.size < 2) {
    throw new PulError('selection.tooSmall', `smart mining needs 2 classes with ≥ 2 samples each; found ${classes.size} (of ${members.size} classes)`, { option: 'sampler' });
  }
  const positive = new Int32Array(n).fill(-1);
  const negative = new Int32Array(n).fill(-1);
  const k = neighbours.k;
  let randomPositives = 0;
  let randomNegatives = 0;
  let active = 0;
  let sumPos = 0;
  let sumNeg = 0;
  for (const a of eligibleList) {
    const y = labels[a]!;
    let p = -1;
    let dp = 0;
    let neg = -1;
    let dn = 0;
    for (let r = 0; r < k; r++) {
      const j = neighbours.indices[a * k + r]!;
      if (j < 0) break;
      const d = Math.sqrt(neighbours.distances[a * k + r]!);
      if (labels[j] === y) {
        if (p < 0) {
          p = j;
          dp = d;
        }
      } else if (p >= 0 && eligible[j] === 1 && d > dp) {
        neg = j;
        dn = d;
        break;
      }
    }
    if (p < 0) {
      const same = members.get(y)!;
      do p = same[rng.int(same.length)]!;
      while (p === a);
      dp = distance(embeddings, a, p);
      randomPositives++;
      // the positive is no neighbour: look for the nearest neighbour negative beyond it
      for (let r = 0; r < k; r++) {
        const j = neighbours.indices[a * k + r]!;
        if (j < 0) break;
        const d = Math.sqrt(neighbours.distances[a * k + r]!);
        if (labels[j] !== y && eligible[j] === 1 && d > dp) {
          neg = j;
          dn = d;
          break;
        }
      }
    }
    if (neg < 0) {
      do neg = eligibleList[rng.int(eligibleList.length)]!;
      while (labels[neg] === y);
      dn = distance(embeddings, a, neg);
      randomNegatives++;
    }
    positive[a] = p;
    negative[a] = neg;
    if (dp - dn + margin > 0) active++;
    sumPos += dp;
    sumNeg += dn;
  }
  const count = eligibleList.length;
  return {
    anchors: Int32Array.from(eligibleList),
    positive,
    negative,
    stats: {
      anchors: count,
      randomPositives,
      randomNegatives,
      activeShare: active / count,
      meanPositiveDistance: sumPos / count,
      meanNegativeDistance: sumNeg / count,
    },
  };
}
