/**
 * ml-kmeans as the tests' independent reference for pul's k-means: Lloyd from given initial centres,
 * returning the assignment and centroids. The only import of ml-kmeans (a devDependency: pul's own
 * k-means runs without it).
 */
import { kmeans as mlKmeans } from 'ml-kmeans';
import type { FeatureMatrix } from '../../src/index.js';

export function referenceKMeans(x: FeatureMatrix, init: FeatureMatrix, maxIter = 300): { assignment: Int32Array; centroids: number[][]; iterations: number } {
  const rows = Array.from({ length: x.rows }, (_, i) => Array.from(x.data.subarray(i * x.dim, (i + 1) * x.dim)));
  const centres = Array.from({ length: init.rows }, (_, i) => Array.from(init.data.subarray(i * init.dim, (i + 1) * init.dim)));
  const r = mlKmeans(rows, init.rows, { initialization: centres, maxIterations: maxIter, tolerance: 0 });
  return { assignment: Int32Array.from(r.clusters), centroids: r.centroids, iterations: r.iterations };
}
