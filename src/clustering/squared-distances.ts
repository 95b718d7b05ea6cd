/**
 * Squared Euclidean distances of a block of rows to a set of points as one GEMM on the active tfjs
 * backend: ‖x‖² + ‖c‖² − 2·x·cᵀ. The other side is kept pre-transposed ([D, M]) because the wasm
 * backend's matMul is ~10× slower with transposeB (pul's native SGEMM does not care either way).
 */
import { tf } from '../backend/tf.js';
import { rowSquaredNorms } from './clustering.js';

/** A [D, M] tensor of points with their float64 squared norms; dispose() when done. */
export interface TransposedPoints {
  readonly count: number;
  readonly dim: number;
  readonly t: ReturnType<typeof tf.tensor2d>;
  readonly norms: Float64Array;
  dispose(): void;
}

export function transposedPoints(data: Float32Array, count: number, dim: number, norms: Float64Array): TransposedPoints {
  const tr = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) tr[j * count + i] = data[i * dim + j]!;
  const t = tf.tensor2d(tr, [dim, count]);
  return { count, dim, t, norms, dispose: () => t.dispose() };
}

/** rows × M dot products x·cᵀ for `rows` rows of `block` (row-major, rows × D). */
export function dotBlock(block: Float32Array, rows: number, points: TransposedPoints): Float32Array {
  const product = tf.tidy(() => tf.matMul(tf.tensor2d(block, [rows, points.dim]), points.t));
  const values = product.dataSync() as Float32Array;
  product.dispose();
  return values;
}

/** Largest number of rows per block so that a rows × M float32 result stays near `budget` values. */
export function blockRows(m: number, budget = 1 << 22): number {
  return Math.max(1, Math.floor(budget / Math.max(1, m)));
}

/** Index of the nearest of `m` points (row-major, m × D) for each of `rows` rows of `block`, by one GEMM. */
export function nearestPoints(block: Float32Array, rows: number, points: Float32Array, m: number, dim: number): Int32Array<ArrayBuffer> {
  const pt = transposedPoints(points, m, dim, rowSquaredNorms(points, m, dim));
  try {
    const dots = dotBlock(block, rows, pt);
    const out = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      let best = Infinity;
      for (let j = 0; j < m; j++) {
        const v = pt.norms[j]! - 2 * dots[r * m + j]!;
        if (v < best) {
          best = v;
          out[r] = j;
        }
      }
    }
    return out;
  } finally {
    pt.dispose();
  }
}
