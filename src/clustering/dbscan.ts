/**
 * DBSCAN (Ester et al. 1996) on a sparse precomputed distance matrix, with scikit-learn's semantics
 * (DBSCAN(metric='precomputed')): row i's neighbourhood is the stored j with distance ≤ eps plus i itself
 * (sklearn sets the diagonal of a sparse input, so a point counts itself unless a stored diagonal
 * exceeds eps); i is core when its neighbourhood holds ≥ minPts points. Clusters grow from the unlabelled
 * core points in row order, through core points only, so a border point joins the first cluster that
 * reaches it — the labels equal sklearn's dbscan_inner, numbering included.
 */
import { PulError } from '../core/errors.js';
import type { SparseDistances } from './sparse-distances.js';

/** DBSCAN's radius and the neighbourhood size (the point itself included) that makes a point core. */
export interface DbscanOptions {
  readonly eps: number;
  readonly minPts: number;
}

/** Throws a named PulError for eps ≤ 0 (or not finite) and minPts < 2 (or not whole). */
export function validateDbscanOptions(options: DbscanOptions): void {
  const { eps, minPts } = options;
  if (!Number.isFinite(eps) || eps <= 0) throw new PulError('option.outOfRange', `eps=${eps} must be a number above 0`, { option: 'eps' });
  if (!Number.isInteger(minPts) || minPts < 2) throw new PulError('option.outOfRange', `minPts=${minPts} must be a whole number ≥ 2 (a point counts itself, so 1 would make every point a cluster)`, { option: 'minPts' });
}

/**
 * Cluster labels 0, 1, … per row, −1 for noise.
 * @example dbscan(jaccardDistances(features), { eps: 0.6, minPts: 4 }) // Int32Array, −1 = noise
 */
export function dbscan(distances: SparseDistances, options: DbscanOptions): Int32Array {
  validateDbscanOptions(options);
  const { eps, minPts } = options;
  const { rows, offsets, index, distance } = distances;
  const isNeighbour = (t: number, i: number): boolean => distance[t]! <= eps && index[t] !== i;
  const core = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    let count = 1;
    for (let t = offsets[i]!; t < offsets[i + 1]!; t++) {
      if (index[t] === i && distance[t]! > eps) count--;
      else if (isNeighbour(t, i)) count++;
    }
    core[i] = count >= minPts ? 1 : 0;
  }
  const labels = new Int32Array(rows).fill(-1);
  const stack = new Int32Array(rows);
  let cluster = 0;
  for (let seed = 0; seed < rows; seed++) {
    if (labels[seed] !== -1 || core[seed] === 0) continue;
    labels[seed] = cluster;
    let top = 0;
    stack[top++] = seed;
    while (top > 0) {
      const i = stack[--top]!;
      for (let t = offsets[i]!; t < offsets[i + 1]!; t++) {
        if (!isNeighbour(t, i)) continue;
        const j = index[t]!;
        if (labels[j] !== -1) continue;
        labels[j] = cluster;
        if (core[j] === 1) stack[top++] = j;
      }
    }
    cluster++;
  }
  return labels;
}
