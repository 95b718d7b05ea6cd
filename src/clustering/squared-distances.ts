/**
 * Squared Euclidean distances of a block of rows to a set of points as one GEMM: ‖x‖² + ‖c‖² − 2·x·cᵀ,
 * on pul's native SGEMM (every core, straight on the Float32Arrays) when it is loaded, else on the
 * active tfjs backend. The other side is kept pre-transposed ([D, M]) because the wasm backend's matMul
 * is ~10× slower with transposeB (the native SGEMM does not care either way; it gets the same operands,
 * so its products are those the wasm backend's native-wrapped matMul gave).
 */
import { tf } from '../backend/tf.js';
import { loadedNativeKernels, type NativeKernels } from '../backend/native.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { rowSquaredNorms } from './clustering.js';

/** Points ready for dot products (held transposed, [D, M]) with their float64 squared norms; dispose() when done. */
export interface TransposedPoints {
  readonly count: number;
  readonly dim: number;
  readonly norms: Float64Array;
  /** rows × M dot products x·cᵀ for `rows` rows of `block` (row-major, rows × D). */
  dot(block: Float32Array, rows: number): Float32Array;
  dispose(): void;
}

/** `native`: the kernels to multiply with (default: the loaded ones; null: the tfjs backend). */
export function transposedPoints(data: Float32Array, count: number, dim: number, norms: Float64Array, native: NativeKernels | null = loadedNativeKernels()): TransposedPoints {
  const tr = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) tr[j * count + i] = data[i * dim + j]!;
  if (native !== null) {
    const dot = (block: Float32Array, rows: number): Float32Array => {
      const out = new Float32Array(rows * count);
      native.sgemm(block, tr, out, rows, count, dim, 0, 0);
      return out;
    };
    return { count, dim, norms, dot, dispose: () => undefined };
  }
  const t = tf.tensor2d(tr, [dim, count]);
  const dot = (block: Float32Array, rows: number): Float32Array => {
    const product = tf.tidy(() => tf.matMul(tf.tensor2d(block, [rows, dim]), t));
    const values = product.dataSync() as Float32Array;
    product.dispose();
    return values;
  };
  return { count, dim, norms, dot, dispose: () => t.dispose() };
}

/** Largest number of rows per block so that a rows × M float32 result stays near `budget` values. */
export function blockRows(m: number, budget = 1 << 22): number {
  return Math.max(1, Math.floor(budget / Math.max(1, m)));
}

/** Index of the nearest of `m` points (row-major, m × D) for each of `rows` rows of `block`, by one GEMM. */
export function nearestPoints(block: Float32Array, rows: number, points: Float32Array, m: number, dim: number, native: NativeKernels | null = loadedNativeKernels()): Int32Array<ArrayBuffer> {
  const pt = transposedPoints(points, m, dim, rowSquaredNorms(points, m, dim), native);
  try {
    const dots = pt.dot(block, rows);
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

/**
 * Each row's k nearest rows by squared Euclidean distance, nearest first (ties: lower index first), by
 * blocks of one GEMM each: memory stays at one block × rows floats. `self`: row i is its own first
 * neighbour followed by its k − 1 nearest others (as a search of the set against itself returns them);
 * otherwise row i is skipped and k others are listed. −1 / Infinity fill a list that runs out of rows.
 */
export function nearestRows(m: FeatureMatrix, k: number, options: { self?: boolean; native?: NativeKernels | null } = {}): { indices: Int32Array; distances: Float32Array } {
  const { rows: n, dim } = m;
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Infinity);
  const first = options.self === true ? 1 : 0;
  const norms = rowSquaredNorms(m.data, n, dim);
  const points = transposedPoints(m.data, n, dim, norms, options.native === undefined ? loadedNativeKernels() : options.native);
  try {
    const step = blockRows(n);
    for (let start = 0; start < n; start += step) {
      const rows = Math.min(step, n - start);
      const dots = points.dot(m.data.subarray(start * dim, (start + rows) * dim), rows);
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const o = i * k + first;
        const cap = k - first;
        if (first === 1) {
          indices[i * k] = i;
          distances[i * k] = 0;
        }
        if (cap === 0) continue;
        let filled = 0;
        const ni = norms[i]!;
        const base = r * n;
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          // clamp: rounding can make the expansion slightly negative for (near-)duplicates
          const d = Math.max(0, ni + norms[j]! - 2 * dots[base + j]!);
          if (filled === cap && d >= distances[o + cap - 1]!) continue;
          let p = filled < cap ? filled++ : cap - 1;
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
  return { indices, distances };
}
