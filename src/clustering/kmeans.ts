/**
 * k-means: greedy k-means++ (or random) seeding, then Lloyd with Yinyang bounds (native C on every core,
 * else GEMM blocks on the active tfjs backend). Why not ml-kmeans on the hot path: it computes every row-to-centre distance with
 * scalar loops over JS arrays of arrays, uses plain (not greedy) k-means++, and has no bound pruning;
 * at Market scale (12 936 × 2 048, K = 750) that is minutes per iteration. It stays the
 * tests' reference (test/helpers/kmeans-reference.ts).
 */
import { PulError } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { inertiaOf, rowSquaredNorms, validateKMeansInput, type Clustering, type KMeansOptions } from './clustering.js';
import { kmeansPlusPlus } from './kmeans-plusplus.js';
import { lloyd } from './lloyd.js';

/**
 * Clusters the rows of `x` into K groups.
 * @example
 * const c = kmeans(featureMatrix(4, 1, Float32Array.of(0, 0.1, 5, 5.1)), { k: 2 }, new Rng(0));
 * c.assignment; // e.g. Int32Array [0, 0, 1, 1]
 */
export function kmeans(x: FeatureMatrix, options: KMeansOptions, rng: Rng): Clustering {
  const k = options.k;
  validateKMeansInput(x, k);
  const maxIter = options.maxIterations ?? 300;
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new PulError('option.outOfRange', `maxIterations=${maxIter} must be a whole number ≥ 1`, { option: 'clustering.maxIterations' });
  const tol = options.tol ?? 1e-4;
  if (!(tol >= 0)) throw new PulError('option.outOfRange', `tol=${tol} must be ≥ 0`, { option: 'clustering.tol' });
  const restarts = typeof options.init === 'object' ? 1 : (options.restarts ?? 1);
  if (!Number.isInteger(restarts) || restarts < 1) throw new PulError('option.outOfRange', `restarts=${restarts} must be a whole number ≥ 1`, { option: 'clustering.restarts' });
  const norms = rowSquaredNorms(x.data, x.rows, x.dim);
  const tolAbs = tol * meanVariance(x);
  let best: Clustering | null = null;
  let seedSeconds = 0;
  let iterationSeconds = 0;
  for (let run = 0; run < restarts; run++) {
    const t0 = performance.now();
    const init = initialCentres(x, k, options.init ?? 'kmeans++', rng, norms);
    const t1 = performance.now();
    const result = lloyd(x, init, k, maxIter, tolAbs, norms);
    const t2 = performance.now();
    seedSeconds += (t1 - t0) / 1000;
    iterationSeconds += (t2 - t1) / 1000;
    const inertia = inertiaOf(x, result.centroids, result.assignment);
    // strictly lower: ties keep the earlier run, as sklearn does
    if (best === null || inertia < best.inertia) {
      best = {
        k,
        assignment: result.assignment,
        centroids: { rows: k, dim: x.dim, data: Float32Array.from(result.centroids) },
        inertia,
        iterations: result.iterations,
        converged: result.converged,
        seedSeconds: 0,
        iterationSeconds: 0,
      };
    }
  }
  return { ...(best as Clustering), seedSeconds, iterationSeconds };
}

/** The K initial centres (K × D, row-major). */
export function initialCentres(x: FeatureMatrix, k: number, init: KMeansOptions['init'] & {}, rng: Rng, norms?: Float64Array): Float32Array {
  if (typeof init !== 'string') {
    if (init.rows !== k || init.dim !== x.dim) {
      throw new PulError('features.mismatch', `initial centres are ${init.rows} × ${init.dim}, expected K × dim = ${k} × ${x.dim}`, { option: 'init' });
    }
    return Float32Array.from(init.data);
  }
  let rows: Int32Array;
  if (init === 'kmeans++') rows = kmeansPlusPlus(x, k, rng, norms ?? rowSquaredNorms(x.data, x.rows, x.dim));
  else {
    const order = Array.from({ length: x.rows }, (_, i) => i);
    rows = Int32Array.from(rng.shuffle(order).slice(0, k));
  }
  const out = new Float32Array(k * x.dim);
  rows.forEach((r, j) => out.set(x.data.subarray(r * x.dim, (r + 1) * x.dim), j * x.dim));
  return out;
}

/** Mean over features of the per-feature variance (sklearn's tolerance scale). */
function meanVariance(x: FeatureMatrix): number {
  const d = x.dim;
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let i = 0; i < x.rows; i++) {
    for (let t = 0; t < d; t++) {
      const v = x.data[i * d + t]!;
      mean[t] = mean[t]! + v;
      sq[t] = sq[t]! + v * v;
    }
  }
  let total = 0;
  for (let t = 0; t < d; t++) {
    const m = mean[t]! / x.rows;
    total += sq[t]! / x.rows - m * m;
  }
  return total / d;
}
