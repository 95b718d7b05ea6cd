/**
 * Embeddings as plain data: rows × dim float32, row-major. What every stage after feature extraction
 * passes around (clustering, selection, evaluation).
 */
import { PulError } from '../core/errors.js';

/** Row-major float32 features: rows × dim, one row per image. */
export interface FeatureMatrix {
  readonly rows: number;
  readonly dim: number;
  /** rows × dim values, row-major. */
  readonly data: Float32Array;
}

/**
 * A rows × dim matrix over `data` (zeros when not given).
 * @example featureMatrix(2, 3).data.length // 6
 */
export function featureMatrix(rows: number, dim: number, data: Float32Array = new Float32Array(rows * dim)): FeatureMatrix {
  if (data.length !== rows * dim) throw new RangeError(`feature data has ${data.length} values, expected ${rows} × ${dim}`);
  return { rows, dim, data };
}

/**
 * A copy with every row scaled to unit L2 norm (a zero row stays zero).
 * @example
 * l2Normalize(featureMatrix(1, 2, Float32Array.of(3, 4))).data; // [0.6, 0.8]
 */
export function l2Normalize(m: FeatureMatrix): FeatureMatrix {
  const out = new Float32Array(m.data.length);
  for (let r = 0; r < m.rows; r++) {
    const start = r * m.dim;
    let sum = 0;
    for (let j = 0; j < m.dim; j++) sum += m.data[start + j]! * m.data[start + j]!;
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let j = 0; j < m.dim; j++) out[start + j] = m.data[start + j]! * scale;
  }
  return { rows: m.rows, dim: m.dim, data: out };
}

/** Throws a PulError naming `source` and the first (0-based) row holding NaN or ±Infinity; `why` ends the message. */
export function assertFinite(m: FeatureMatrix, source: string, why = 'features must be finite'): void {
  // x·0 is NaN exactly for NaN and ±Infinity: four running sums find out whether there is one ~2× faster
  // than testing each value (a 234 MB feature file: ~0.15 s instead of ~0.3 s); then look for it
  const d = m.data;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < d.length; i += 4) {
    s0 += d[i]! * 0;
    s1 += d[i + 1]! * 0;
    s2 += d[i + 2]! * 0;
    s3 += d[i + 3]! * 0;
  }
  for (; i < d.length; i++) s0 += d[i]! * 0;
  if (!Number.isNaN(s0 + s1 + s2 + s3)) return;
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i]!)) {
      const row = Math.floor(i / m.dim);
      throw new PulError('features.malformed', `${source}: row ${row} (0-based) holds ${m.data[i]} (${why})`, { file: source, row });
    }
  }
}

/** The rows at `indices`, in that order. */
export function selectRows(m: FeatureMatrix, indices: ArrayLike<number>): FeatureMatrix {
  const out = new Float32Array(indices.length * m.dim);
  for (let i = 0; i < indices.length; i++) out.set(m.data.subarray(indices[i]! * m.dim, (indices[i]! + 1) * m.dim), i * m.dim);
  return { rows: indices.length, dim: m.dim, data: out };
}
