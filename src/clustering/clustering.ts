/**
 * The result and options of a clustering: plain, read-only data handed to selection.
 */
import { assertFinite, type FeatureMatrix } from '../features/feature-matrix.js';
import { PulError } from '../core/errors.js';

/**
 * A clustering: one cluster per row (or −1, noise, for a density method), K centroids (K × dim, the
 * mean of each cluster's members).
 */
export interface Clustering {
  /** Number of clusters found. */
  readonly k: number;
  /** rows entries in [0, k), or −1 for a noise row (no pseudo-label; density methods only). */
  readonly assignment: Int32Array;
  readonly centroids: FeatureMatrix;
  /** Sum over the clustered (non-noise) rows of the squared Euclidean distance to the assigned centroid (float64). */
  readonly inertia: number;
  readonly iterations: number;
  /** True when the assignment stopped changing or the centre shift fell to the tolerance. */
  readonly converged: boolean;
  /** Seconds spent seeding and in the iterations. */
  readonly seedSeconds: number;
  readonly iterationSeconds: number;
  /** Count of −1 rows (absent: none). */
  readonly noise?: number;
  /** How it was found (absent: k-means). */
  readonly method?: 'kmeans' | 'dbscan';
}

/** k-means seeding: k-means++ (greedy, as scikit-learn) or random rows. */
export type KMeansInit = 'kmeans++' | 'random';

/** Options of k-means. Defaults: kmeans++, 300 iterations, tol 1e-4 (sklearn's). */
export interface KMeansOptions {
  readonly k: number;
  readonly init?: KMeansInit | FeatureMatrix;
  readonly maxIterations?: number;
  /** Relative tolerance: stop when Σ‖Δc‖² ≤ tol × mean per-feature variance (sklearn's rule). */
  readonly tol?: number;
  /** Runs from different seedings, the lowest inertia kept (sklearn's n_init); default 1. Ignored with given centres. */
  readonly restarts?: number;
}

/**
 * The clusters left for `rows` unlabelled points when `reserved` of the K clusters are labelled
 * identities (semi mode; 0 otherwise): K − reserved, checked to lie in [1, rows]. The one check that
 * K fits the data; the error names the config key clustering.k.
 * @example clustersFor(750, 12936, 'the target') // 750
 */
export function clustersFor(k: number, rows: number, of: string, reserved = 0): number {
  const where = { option: 'clustering.k' };
  if (!Number.isInteger(k) || k < 1) throw new PulError('option.outOfRange', `K=${k} must be a whole number ≥ 1`, where);
  if (k - reserved < 1) throw new PulError('option.outOfRange', `K=${k} leaves no cluster for the unlabelled images: the labelled set already has ${reserved} identities (K must exceed it)`, where);
  if (k - reserved > rows) throw new PulError('option.outOfRange', `K=${k - reserved} exceeds the ${rows} rows of ${of}`, where);
  return k - reserved;
}

/** Throws a PulError naming the option when K or the data cannot be clustered. */
export function validateKMeansInput(x: FeatureMatrix, k: number, source = 'features'): void {
  clustersFor(k, x.rows, source);
  assertFinite(x, source, 'k-means needs finite features');
}

/** Float64 squared norm of each row. */
export function rowSquaredNorms(data: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * dim;
    for (let j = 0; j < dim; j++) s += data[o + j]! * data[o + j]!;
    out[r] = s;
  }
  return out;
}

/** Exact float64 inertia of `assignment` under `centroids`. */
export function inertiaOf(x: FeatureMatrix, centroids: ArrayLike<number>, assignment: Int32Array): number {
  let total = 0;
  const d = x.dim;
  for (let i = 0; i < x.rows; i++) {
    const xo = i * d;
    const co = assignment[i]! * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = x.data[xo + j]! - centroids[co + j]!;
      s += t * t;
    }
    total += s;
  }
  return total;
}
