/**
 * The cluster stage of Cluster-Contrast / SpCL: DBSCAN on the k-reciprocal Jaccard distance
 * (defaults k1 = 30, k2 = 6, eps = 0.6, minPts = 4, Dai et al. 2021). Noise rows get −1 (no pseudo-label).
 * With reliabilityDelta, the same distances are also clustered at eps − δ (tighter) and eps + δ (looser)
 * for SpCL's reliability criterion (selection/select-dense.ts).
 */
import { performance } from 'node:perf_hooks';
import { PulError } from '../core/errors.js';
import { featureMatrix, type FeatureMatrix } from '../features/feature-matrix.js';
import type { Clustering } from './clustering.js';
import { dbscan, validateDbscanOptions } from './dbscan.js';
import { jaccardDistances, validateJaccardOptions } from './k-reciprocal-jaccard.js';

/** Options of clusterByDensity (defaults: k1 30, k2 6, eps 0.6, minPts 4). */
export interface DensityOptions {
  readonly k1?: number;
  readonly k2?: number;
  /** DBSCAN radius on the Jaccard distance, in (0, 1). */
  readonly eps?: number;
  /** Neighbours (the point itself included) within eps that make a point core; ≥ 2. */
  readonly minPts?: number;
  /** When set, also cluster at eps − δ (tighter) and eps + δ (looser); both must stay in (0, 1). */
  readonly reliabilityDelta?: number;
}

/** Seconds per step of clusterByDensity. */
export interface DensitySeconds {
  readonly neighbours: number;
  readonly jaccard: number;
  readonly dbscan: number;
  readonly total: number;
}

/** A density clustering: k clusters, −1 noise rows, and the tighter / looser labels when asked for. */
export type DensityClustering = Clustering & {
  readonly noise: number;
  readonly method: 'dbscan';
  readonly tighter?: Int32Array;
  readonly looser?: Int32Array;
  readonly seconds: DensitySeconds;
};

/** Count of clusters (largest label + 1) and of −1 rows. */
export function countClusters(labels: Int32Array): { k: number; noise: number } {
  let k = 0;
  let noise = 0;
  for (const l of labels) {
    if (l < 0) noise++;
    else if (l + 1 > k) k = l + 1;
  }
  return { k, noise };
}

/** Mean of each cluster's rows (k × dim), noise rows skipped, and the clustered rows' squared distance to it. */
export function clusterMeans(features: FeatureMatrix, labels: Int32Array, k: number): { centroids: FeatureMatrix; inertia: number } {
  const d = features.dim;
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let i = 0; i < features.rows; i++) {
    const c = labels[i]!;
    if (c < 0) continue;
    counts[c]!++;
    for (let t = 0; t < d; t++) sums[c * d + t]! += features.data[i * d + t]!;
  }
  const data = new Float32Array(k * d);
  for (let c = 0; c < k; c++) for (let t = 0; t < d; t++) data[c * d + t] = counts[c]! > 0 ? sums[c * d + t]! / counts[c]! : 0;
  let inertia = 0;
  for (let i = 0; i < features.rows; i++) {
    const c = labels[i]!;
    if (c < 0) continue;
    for (let t = 0; t < d; t++) {
      const diff = features.data[i * d + t]! - data[c * d + t]!;
      inertia += diff * diff;
    }
  }
  return { centroids: featureMatrix(k, d, data), inertia };
}

function checkEps(eps: number, option: string, what: string): void {
  if (!Number.isFinite(eps) || eps <= 0) throw new PulError('option.outOfRange', `${what}=${eps} must be a number above 0`, { option });
  if (eps >= 1) throw new PulError('option.outOfRange', `${what}=${eps} must be below 1: Jaccard distances lie in [0, 1] and every row is within 1 of every other`, { option });
}

/**
 * DBSCAN on the k-reciprocal Jaccard distances of `features` (rows × dim; L2-normalised inside).
 * Throws clustering.tooFew (exit 3) when fewer than 2 clusters are found.
 * @example clusterByDensity(features, { eps: 0.6, minPts: 4 }).noise // rows left without a pseudo-label
 */
export function clusterByDensity(features: FeatureMatrix, options: DensityOptions = {}): DensityClustering {
  const { k1 = 30, k2 = 6, eps = 0.6, minPts = 4, reliabilityDelta } = options;
  checkEps(eps, 'eps', 'eps');
  validateDbscanOptions({ eps, minPts });
  validateJaccardOptions(features.rows, k1, k2);
  if (reliabilityDelta !== undefined) {
    if (!Number.isFinite(reliabilityDelta) || reliabilityDelta <= 0) throw new PulError('option.outOfRange', `reliabilityDelta=${reliabilityDelta} must be a number above 0`, { option: 'reliabilityDelta' });
    checkEps(eps - reliabilityDelta, 'reliabilityDelta', 'eps − reliabilityDelta');
    checkEps(eps + reliabilityDelta, 'reliabilityDelta', 'eps + reliabilityDelta');
  }
  const started = performance.now();
  const distances = jaccardDistances(features, { k1, k2, maxDistance: eps + (reliabilityDelta ?? 0) });
  const clustered = performance.now();
  const assignment = dbscan(distances, { eps, minPts });
  const { k, noise } = countClusters(assignment);
  const extra = reliabilityDelta === undefined ? {} : {
    tighter: dbscan(distances, { eps: eps - reliabilityDelta, minPts }),
    looser: dbscan(distances, { eps: eps + reliabilityDelta, minPts }),
  };
  const done = performance.now();
  if (k < 2) {
    const hint = noise * 2 >= features.rows ? `most rows are noise: raise eps above ${eps} or lower minPts below ${minPts}` : `one cluster holds ${features.rows - noise} rows: lower eps below ${eps}`;
    throw new PulError('clustering.tooFew', `DBSCAN found ${k} cluster${k === 1 ? '' : 's'} and ${noise} noise point${noise === 1 ? '' : 's'} among ${features.rows} rows at eps=${eps}, minPts=${minPts} (at least 2 clusters are needed): ${hint}`, { option: 'eps' });
  }
  const { centroids, inertia } = clusterMeans(features, assignment, k);
  const seconds = { neighbours: distances.seconds.neighbours, jaccard: distances.seconds.jaccard, dbscan: (done - clustered) / 1000, total: (performance.now() - started) / 1000 };
  return {
    k, assignment, centroids, inertia, iterations: 1, converged: true,
    seedSeconds: seconds.neighbours + seconds.jaccard, iterationSeconds: seconds.dbscan,
    noise, method: 'dbscan', ...extra, seconds,
  };
}
