/**
 * The k-reciprocal Jaccard distance (Zhong et al., CVPR 2017) between all rows of one feature set, as
 * SpCL and Cluster-Contrast compute it for DBSCAN (compute_jaccard_distance: k1 = 30, k2 = 6, no mix
 * with the original distance): each row's k1 nearest rows (itself first) by an exact blocked GEMM, the
 * k-reciprocal weights softmax(−‖xᵢ − xⱼ‖²) over the expanded k-reciprocal set, local query expansion
 * over the k2 nearest, then 1 − m / (2 − m) with m = Σ min(Vᵢ, Vⱼ). Only pairs sharing weight are stored:
 * the Python tools hold rows × rows matrices (out of 128 GB at 600 k images); this holds O(rows × k1 × k2).
 */
import { performance } from 'node:perf_hooks';
import { PulError } from '../core/errors.js';
import { assertFinite, l2Normalize, type FeatureMatrix } from '../features/feature-matrix.js';
import { accumulateOverlap, kReciprocalWeights, localQueryExpansion, transposeRows } from '../features/k-reciprocal.js';
import type { SparseDistances } from './sparse-distances.js';
import { nearestRows } from './squared-distances.js';

/** Options of jaccardDistances: Cluster-Contrast's k1 = 30, k2 = 6. */
export interface JaccardOptions {
  readonly k1?: number;
  readonly k2?: number;
  /** Keep only pairs at distance ≤ this (default: every pair below 1); a density clustering needs no more than its eps. */
  readonly maxDistance?: number;
}

/** The distances and the seconds spent on the neighbour search and on the Jaccard step. */
export type JaccardDistances = SparseDistances & { readonly seconds: { readonly neighbours: number; readonly jaccard: number } };

/** numpy's np.around (half to even), which SpCL applies to k1 / 2. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  if (x - f !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}

/** Throws a named PulError when k1 / k2 cannot be used on `rows` rows. */
export function validateJaccardOptions(rows: number, k1: number, k2: number): void {
  if (!Number.isInteger(k1) || k1 < 1) throw new PulError('option.outOfRange', `k1=${k1} must be a whole number ≥ 1`, { option: 'k1' });
  if (!Number.isInteger(k2) || k2 < 1) throw new PulError('option.outOfRange', `k2=${k2} must be a whole number ≥ 1`, { option: 'k2' });
  if (k2 > k1) throw new PulError('option.outOfRange', `k2=${k2} exceeds k1=${k1}: query expansion averages over the k2 nearest of the k1 neighbours`, { option: 'k2' });
  if (k1 >= rows) throw new PulError('option.outOfRange', `k1=${k1} must be below the ${rows} rows to cluster`, { option: 'k1' });
}

/**
 * k-reciprocal Jaccard distances of every row to the rows it shares k-reciprocal weight with (CSR,
 * index ascending, distances in [0, 1), the diagonal included at ≈ 0). Rows are L2-normalised first.
 * @example jaccardDistances(features, { k1: 30, k2: 6 }).offsets.length // features.rows + 1
 */
export function jaccardDistances(features: FeatureMatrix, options: JaccardOptions = {}): JaccardDistances {
  const k1 = options.k1 ?? 30;
  const k2 = options.k2 ?? 6;
  const N = features.rows;
  validateJaccardOptions(N, k1, k2);
  assertFinite(features, 'features', 'the Jaccard distance needs finite features');
  const limit = options.maxDistance ?? 1;
  const started = performance.now();
  const x = l2Normalize(features);
  const dim = x.dim;
  // SpCL searches k1 neighbours of the set in itself (faiss, self first) and slices [:k1 + 1] of that
  const ranks = { rows: N, width: k1, index: nearestRows(x, k1, { self: true }).indices };
  const searched = performance.now();
  const squared = (i: number, j: number): number => {
    let dot = 0;
    for (let t = 0; t < dim; t++) dot += x.data[i * dim + t]! * x.data[j * dim + t]!;
    return 2 - 2 * dot;
  };
  const V = kReciprocalWeights(ranks, k1, roundHalfEven(k1 / 2), squared);
  const expanded = k2 !== 1 ? localQueryExpansion(V, ranks, k2) : V;
  const byColumn = transposeRows(expanded, N);

  const offsets = new Int32Array(N + 1);
  let index = new Int32Array(Math.max(1024, N * 16));
  let distance = new Float32Array(index.length);
  let used = 0;
  const overlap = new Float64Array(N);
  const touched = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const count = accumulateOverlap(expanded, byColumn, i, overlap, touched);
    const row = touched.subarray(0, count).sort();
    if (used + count > index.length) {
      const size = Math.max(2 * index.length, used + count);
      const grownIndex = new Int32Array(size);
      grownIndex.set(index.subarray(0, used));
      const grownDistance = new Float32Array(size);
      grownDistance.set(distance.subarray(0, used));
      index = grownIndex;
      distance = grownDistance;
    }
    for (let t = 0; t < count; t++) {
      const k = row[t]!;
      const m = overlap[k]!;
      overlap[k] = 0;
      const d = Math.max(0, 1 - m / (2 - m));
      if (d < 1 && d <= limit) {
        index[used] = k;
        distance[used++] = d;
      }
    }
    offsets[i + 1] = used;
  }
  const done = performance.now();
  return {
    rows: N,
    offsets,
    index: index.slice(0, used),
    distance: distance.slice(0, used),
    seconds: { neighbours: (searched - started) / 1000, jaccard: (done - searched) / 1000 },
  };
}
