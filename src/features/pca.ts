/**
 * Principal component analysis of embeddings, with optional whitening: the eigen-decomposition of the
 * covariance matrix (ml-matrix's symmetric EVD), components ordered by variance. For a 2-D map of a
 * feature folder, or to reduce and decorrelate embeddings before clustering.
 */
import type * as MlMatrix from 'ml-matrix';
import { lazyRequire } from '../core/lazy-require.js';
import { PulError } from '../core/errors.js';
import { featureMatrix, type FeatureMatrix } from './feature-matrix.js';

const mlMatrix = lazyRequire<typeof MlMatrix>('ml-matrix');

export interface Pca {
  /** Per-dimension mean of the fitted rows (length = input dim). */
  readonly mean: Float64Array;
  /** Components as rows (d × input dim, row-major), unit length, largest variance first. */
  readonly components: Float64Array;
  readonly dim: number;
  readonly d: number;
  /** Variance along each component (the covariance's eigenvalues, denominator rows − 1). */
  readonly variances: Float64Array;
  /** Share of the total variance each component explains. */
  readonly explained: Float64Array;
  /** Projections divided by √variance (unit variance, uncorrelated). */
  readonly whiten: boolean;
}

export interface PcaOptions {
  readonly whiten?: boolean;
}

/**
 * Fits a `d`-component PCA on the rows of `x` (at least 2). Each component's sign is fixed so that its
 * largest-magnitude entry is positive, so the same data always give the same projection.
 * @example
 * const pca = fitPca(features, 2); const xy = projectPca(pca, features); // rows × 2
 */
export function fitPca(x: FeatureMatrix, d: number, options: PcaOptions = {}): Pca {
  const { EVD, Matrix } = mlMatrix();
  if (!Number.isInteger(d) || d < 1 || d > x.dim) throw new PulError('option.outOfRange', `PCA to ${d} dimensions: must be a whole number in [1, ${x.dim}] (the features' dimension)`, { option: 'd' });
  if (x.rows < 2) throw new PulError('features.malformed', `PCA needs at least 2 rows, got ${x.rows}`);
  const n = x.rows;
  const dim = x.dim;
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += x.data[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= n;
  const centred = new Matrix(n, dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) centred.set(i, j, x.data[i * dim + j]! - mean[j]!);
  const covariance = centred.transpose().mmul(centred).div(n - 1);
  const evd = new EVD(covariance, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const order = Array.from(values.keys()).sort((a, b) => values[b]! - values[a]! || a - b);
  const total = values.reduce((s, v) => s + Math.max(0, v), 0);
  const components = new Float64Array(d * dim);
  const variances = new Float64Array(d);
  const explained = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    const col = order[c]!;
    let largest = 0;
    for (let j = 0; j < dim; j++) if (Math.abs(vectors.get(j, col)) > Math.abs(largest)) largest = vectors.get(j, col);
    const sign = largest < 0 ? -1 : 1;
    for (let j = 0; j < dim; j++) components[c * dim + j] = sign * vectors.get(j, col);
    variances[c] = Math.max(0, values[col]!);
    explained[c] = total > 0 ? variances[c]! / total : 0;
  }
  return { mean, components, dim, d, variances, explained, whiten: options.whiten ?? false };
}

/** The rows of `x` in the PCA's coordinates (rows × d); whitened when the PCA was fitted so. */
export function projectPca(pca: Pca, x: FeatureMatrix): FeatureMatrix {
  if (x.dim !== pca.dim) throw new PulError('features.mismatch', `PCA fitted on ${pca.dim}-dimensional features cannot project ${x.dim}-dimensional ones`);
  const out = featureMatrix(x.rows, pca.d);
  const centred = new Float64Array(pca.dim);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < pca.dim; j++) centred[j] = x.data[i * pca.dim + j]! - pca.mean[j]!;
    for (let c = 0; c < pca.d; c++) {
      let s = 0;
      for (let j = 0; j < pca.dim; j++) s += centred[j]! * pca.components[c * pca.dim + j]!;
      // a zero-variance direction has nothing to scale: leave it at 0 rather than divide by 0
      out.data[i * pca.d + c] = pca.whiten ? (pca.variances[c]! > 0 ? s / Math.sqrt(pca.variances[c]!) : 0) : s;
    }
  }
  return out;
}
