/**
 * Exact k-nearest-neighbour search by blocks: the squared distances of a block of rows to every row as
 * one GEMM (‖x‖² + ‖y‖² − 2·x·yᵀ, native SGEMM when loaded), then the k smallest per row by insertion
 * into a sorted buffer. Memory stays at one block × n floats.
 */
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { rowSquaredNorms } from '../clustering/clustering.js';
import { blockRows, transposedPoints } from '../clustering/squared-distances.js';
import type { Neighbours } from './neighbours.js';

/** Row i's k nearest other rows (ties: lower index first). */
export function exactNeighbours(m: FeatureMatrix, k: number): Neighbours {
  const { rows: n, dim } = m;
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Infinity);
  const norms = rowSquaredNorms(m.data, n, dim);
  const points = transposedPoints(m.data, n, dim, norms);
  try {
    const step = blockRows(n);
    for (let start = 0; start < n; start += step) {
      const rows = Math.min(step, n - start);
      const dots = points.dot(m.data.subarray(start * dim, (start + rows) * dim), rows);
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const o = i * k;
        let filled = 0;
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          // clamp: rounding can make the expansion slightly negative for (near-)duplicates
          const d = Math.max(0, norms[i]! + norms[j]! - 2 * dots[r * n + j]!);
          if (filled === k && d >= distances[o + k - 1]!) continue;
          let p = filled < k ? filled++ : k - 1;
          while (p > 0 && distances[o + p - 1]! > d) {
            distances[o + p] = distances[o + p - 1]!;
            indices[o + p] = indices[o + p - 1]!;
            p--;
          }
          distances[o + p] = d;
          indices[o + p] = j;
        }
      }
    }
  } finally {
    points.dispose();
  }
  return { rows: n, k, indices, distances };
}
