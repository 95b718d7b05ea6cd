/**
 * Mini-batch k-means (Sculley 2010) for data too large for whole-matrix passes: each step assigns a
 * random batch to the nearest centres (one GEMM block) and moves each centre towards its batch rows with
 * a per-centre rate 1/count. Memory: one batch × K block at a time. The final assignment streams
 * through the rows in blocks.
 */
import { PulError } from '../core/errors.js';
import type { Rng } from '../core/random.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { inertiaOf, validateKMeansInput, type Clustering, type KMeansInit } from './clustering.js';
import { initialCentres } from './kmeans.js';
import { blockRows, nearestPoints } from './squared-distances.js';

/** Options of miniBatchKMeans: K, batch size, steps, seeding. */
export interface MiniBatchOptions {
  readonly k: number;
  /** Rows per step (default 1024); capped at the number of rows, as scikit-learn's MiniBatchKMeans does. */
  readonly batchSize?: number;
  /** Number of batch steps (default: 100). */
  readonly steps?: number;
  /** k-means++ seeds on a random subset of this many rows (default 3·batch, at least K). */
  readonly initSize?: number;
  readonly init?: KMeansInit;
}

/** Mini-batch k-means (Sculley 2010) for data too large for full Lloyd passes; seeded by `rng`. */
export function miniBatchKMeans(x: FeatureMatrix, options: MiniBatchOptions, rng: Rng): Clustering {
  const k = options.k;
  validateKMeansInput(x, k);
  const requested = options.batchSize ?? 1024;
  const steps = options.steps ?? 100;
  if (!Number.isInteger(requested) || requested < 1) throw new PulError('option.outOfRange', `batch size ${requested} must be a whole number ≥ 1`, { option: 'clustering.batchSize' });
  // a batch beyond the data only draws the same rows again (and a huge one cannot be allocated)
  const batch = Math.min(requested, x.rows);
  if (!Number.isInteger(steps) || steps < 1) throw new PulError('option.outOfRange', `steps=${steps} must be a whole number ≥ 1`, { option: 'clustering.steps' });
  const d = x.dim;
  const t0 = performance.now();
  const initRows = Math.min(x.rows, Math.max(k, options.initSize ?? 3 * batch));
  const order = rng.shuffle(Array.from({ length: x.rows }, (_, i) => i)).slice(0, initRows);
  const subset = new Float32Array(initRows * d);
  order.forEach((r, i) => subset.set(x.data.subarray(r * d, (r + 1) * d), i * d));
  const centres = Float64Array.from(initialCentres({ rows: initRows, dim: d, data: subset }, k, options.init ?? 'kmeans++', rng));
  const t1 = performance.now();
  const counts = new Float64Array(k);
  const rows = new Int32Array(batch);
  const block = new Float32Array(batch * d);
  for (let s = 0; s < steps; s++) {
    for (let b = 0; b < batch; b++) {
      rows[b] = rng.int(x.rows);
      block.set(x.data.subarray(rows[b]! * d, (rows[b]! + 1) * d), b * d);
    }
    const labels = nearestPoints(block, batch, Float32Array.from(centres), k, d);
    for (let b = 0; b < batch; b++) {
      const j = labels[b]!;
      counts[j] = counts[j]! + 1;
      const rate = 1 / counts[j];
      for (let t = 0; t < d; t++) centres[j * d + t] = centres[j * d + t]! + rate * (block[b * d + t]! - centres[j * d + t]!);
    }
  }
  const assignment = new Int32Array(x.rows);
  const per = blockRows(k);
  for (let start = 0; start < x.rows; start += per) {
    const m = Math.min(per, x.rows - start);
    assignment.set(nearestPoints(x.data.subarray(start * d, (start + m) * d), m, Float32Array.from(centres), k, d), start);
  }
  const t2 = performance.now();
  return {
    k,
    assignment,
    centroids: { rows: k, dim: d, data: Float32Array.from(centres) },
    inertia: inertiaOf(x, centres, assignment),
    iterations: steps,
    converged: false,
    seedSeconds: (t1 - t0) / 1000,
    iterationSeconds: (t2 - t1) / 1000,
  };
}
