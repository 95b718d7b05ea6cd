/**
 * A 2-D map of embeddings: their first two principal components (src/features/pca.ts, ml-matrix's EVD),
 * fitted and drawn on a seeded sample of at most `maxPoints` rows so a large set stays a light page.
 */
import { Rng } from '../core/random.js';
import { featureMatrix, l2Normalize, type FeatureMatrix } from '../features/feature-matrix.js';
import { fitPca, projectPca } from '../features/pca.js';

export interface EmbeddingMap {
  /** Feature rows drawn, ascending. */
  readonly rows: Int32Array;
  /** Their coordinates on the first two components. */
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** Share of the variance of the two components. */
  readonly explained: readonly [number, number];
}

/**
 * The first two principal components of the L2-normalised rows (the geometry the cosine ranking
 * sees), of every row or of a seeded sample of `maxPoints` (default 4 000).
 * @example
 * const map = embeddingMap(features); // map.x[i], map.y[i]: row map.rows[i]
 */
export function embeddingMap(features: FeatureMatrix, options: { readonly maxPoints?: number; readonly seed?: number } = {}): EmbeddingMap {
  const max = options.maxPoints ?? 4000;
  let rows = Int32Array.from({ length: features.rows }, (_, i) => i);
  if (rows.length > max) {
    const rng = new Rng(options.seed ?? 0);
    for (let i = 0; i < max; i++) {
      const j = i + rng.int(rows.length - i);
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    rows = rows.slice(0, max).sort();
  }
  const sample = featureMatrix(rows.length, features.dim);
  rows.forEach((r, i) => sample.data.set(features.data.subarray(r * features.dim, (r + 1) * features.dim), i * features.dim));
  const normalised = l2Normalize(sample);
  const pca = fitPca(normalised, Math.min(2, features.dim));
  const xy = projectPca(pca, normalised);
  const x = new Float64Array(rows.length);
  const y = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    x[i] = xy.data[i * pca.d]!;
    y[i] = pca.d > 1 ? xy.data[i * pca.d + 1]! : 0;
  }
  return { rows, x, y, explained: [pca.explained[0] ?? 0, pca.explained[1] ?? 0] };
}
