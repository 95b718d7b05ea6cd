/**
 * Squared Euclidean distances of a block of rows to a set of points as one GEMM: ‖x‖² + ‖c‖² − 2·x·cᵀ,
 * on pul's native SGEMM (every core, straight on the Float32Arrays) when it is loaded, else on the
 * active tfjs backend. The other side is kept pre-transposed ([D, M]) because the wasm backend's matMul
 * is ~10× slower with transposeB (the native SGEMM packs the points once, see transposedPoints).
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
  /** rows × M dot products x·cᵀ for `rows` rows of `block` (row-major, rows × D); into `out` when given and native. */
  dot(block: Float32Array, rows: number, out?: Float32Array): Float32Array;
  dispose(): void;
}

/**
 * `native`: the kernels to multiply with (default: the loaded ones; null: the tfjs backend). The native
 * path packs the points once into the SGEMM's panel layout (straight from the row-major rows): a product
 * then only packs its small block, where a plain sgemm call re-packed all the points (k-means++ seeding
 * multiplies 2 + ln K candidates by every row K times). Same operands, same bits as sgemm.
 */
export function transposedPoints(data: Float32Array, count: number, dim: number, norms: Float64Array, native: NativeKernels | null = loadedNativeKernels()): TransposedPoints {
  if (native !== null) {
    const packed = new Float32Array(native.sgemmPackB(data, new Float32Array(0), count, dim, 1));
    native.sgemmPackB(data, packed, count, dim, 1);
    const dot = (block: Float32Array, rows: number, into?: Float32Array): Float32Array => {
      const out = into?.subarray(0, rows * count) ?? new Float32Array(rows * count);
      native.sgemmPacked(block, packed, out, rows, count, dim, 0);
      return out;
    };
    return { count, dim, norms, dot, dispose: () => undefined };
  }
  const tr = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) tr[j * count + i] = data[i * dim + j]!;
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
 * blocks of one GEMM each (the selection in native C on every core when the addon has it, else in JS):
 * memory stays at one block × rows floats. `self`: row i is its own first
 * neighbour followed by its k − 1 nearest others (as a search of the set against itself returns them);
 * otherwise row i is skipped and k others are listed. −1 / Infinity fill a list that runs out of rows.
 */
export function nearestRows(m: FeatureMatrix, k: number, options: { self?: boolean; native?: NativeKernels | null } = {}): { indices: Int32Array; distances: Float32Array } {
  const { rows: n, dim } = m;
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Infinity);
  const first = options.self === true ? 1 : 0;
  const norms = rowSquaredNorms(m.data, n, dim);
  const native = options.native === undefined ? loadedNativeKernels() : options.native;
  const points = transposedPoints(m.data, n, dim, norms, native);
  const cap = k - first;
  if (first === 1) for (let i = 0; i < n; i++) [indices[i * k], distances[i * k]] = [i, 0];
  try {
    // 16 M dot products a block (64 MB): each GEMM task packs all n rows, so fewer, taller blocks pay
    const step = blockRows(n, 1 << 24);
    // one buffer for every block: a fresh 64 MB array per block costs as much in page faults as the selection
    const buffer = new Float32Array(Math.min(step, n) * n);
    for (let start = 0; start < n && cap > 0; start += step) {
      const rows = Math.min(step, n - start);
      const dots = points.dot(m.data.subarray(start * dim, (start + rows) * dim), rows, buffer);
      if (native?.topkRows !== undefined) {
        native.topkRows(dots, rows, n, norms, start, cap, k, first, indices, distances);
        continue;
      }
      for (let r = 0; r < rows; r++) {
        const i = start + r;
        const o = i * k + first;
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
