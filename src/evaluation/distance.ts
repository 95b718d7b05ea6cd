/**
 * Query × gallery distances in bounded blocks of query rows, on the tfjs backend (a GEMM per block
 * against the gallery, transposed once to D × G so the backend's matmul runs without transposes).
 * Never more than `budgetFloats` distances exist at once.
 */
import { tf } from '../backend/tf.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';

/** Cosine (on L2-normalised rows) or Euclidean distance. */
export type DistanceMetric = 'cosine' | 'euclidean';

export interface DistanceBlock {
  /** Index of the block's first query row. */
  readonly first: number;
  readonly rows: number;
  /** rows × gallery-size distances, row-major. */
  readonly data: Float32Array;
}

export interface DistanceOptions {
  /** cosine: 1 − q·g of L2-normalised rows (pass normalised features); euclidean: squared L2 distance. */
  readonly metric: DistanceMetric;
  /** Largest number of distances held at once (default 16 Mi: 64 MB). */
  readonly budgetFloats?: number;
}

function squaredNorms(m: FeatureMatrix): Float32Array {
  const norms = new Float32Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let j = r * m.dim; j < (r + 1) * m.dim; j++) s += m.data[j]! * m.data[j]!;
    norms[r] = s;
  }
  return norms;
}

function transposed(m: FeatureMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.dim);
  for (let r = 0; r < m.rows; r++) for (let j = 0; j < m.dim; j++) out[j * m.rows + r] = m.data[r * m.dim + j]!;
  return out;
}

/**
 * Yields query × gallery distances a block of query rows at a time (at most `budgetFloats` values per
 * block); the block's array is only valid until the next one is requested. Cosine expects
 * L2-normalised rows.
 * @example
 * for (const block of distanceBlocks(l2Normalize(q), l2Normalize(g), { metric: 'cosine' })) {
 *   console.log(block.first, block.rows, block.data[0]);
 * }
 */
export function* distanceBlocks(query: FeatureMatrix, gallery: FeatureMatrix, options: DistanceOptions): Generator<DistanceBlock> {
  if (query.dim !== gallery.dim) throw new RangeError(`query features have ${query.dim} dimensions, gallery features ${gallery.dim}`);
  const budget = options.budgetFloats ?? 1 << 24;
  const blockRows = Math.max(1, Math.min(query.rows, Math.floor(budget / Math.max(1, gallery.rows))));
  const galleryT = tf.tensor2d(transposed(gallery), [gallery.dim, gallery.rows]);
  const qNorms = options.metric === 'euclidean' ? squaredNorms(query) : null;
  const gNorms = options.metric === 'euclidean' ? squaredNorms(gallery) : null;
  try {
    for (let first = 0; first < query.rows; first += blockRows) {
      const rows = Math.min(blockRows, query.rows - first);
      // Return the tensor from tidy, not its data: tidy would walk a returned typed array element by element.
      const product = tf.tidy(() => tf.matMul(tf.tensor2d(query.data.subarray(first * query.dim, (first + rows) * query.dim), [rows, query.dim]), galleryT));
      const data = product.dataSync() as Float32Array;
      product.dispose();
      const G = gallery.rows;
      if (qNorms && gNorms) {
        for (let i = 0; i < rows; i++) {
          const qn = qNorms[first + i]!;
          for (let g = 0, o = i * G; g < G; g++, o++) data[o] = Math.max(0, qn + gNorms[g]! - 2 * data[o]!);
        }
      } else {
        for (let o = 0; o < data.length; o++) data[o] = 1 - data[o]!;
      }
      yield { first, rows, data };
    }
  } finally {
    galleryT.dispose();
  }
}
