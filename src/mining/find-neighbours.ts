/**
 * k nearest neighbours of every row of an embedding matrix among the other rows, by squared Euclidean
 * distance (the distance the triplet losses use, squared): exact blocked search on a small set, an HNSW
 * graph (usearch) on a large one. Exact up to `exactMaxRows` = 10 000 rows, where the two cost the
 * same (measured on 10 clustered Gaussian blobs, 2-core VM shared with other jobs: 3 000 × 32 exact
 * 0.30 s, HNSW 0.38 s; 10 000 × 128 exact 2.5 s, HNSW 2.5 s with recall@10 0.996): exact grows as n²,
 * the graph as n log n.
 */
import { PulError } from '../core/errors.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { exactNeighbours } from './exact-neighbours.js';
import { hnswNeighbours, hnswUnavailable } from './hnsw-neighbours.js';
import type { NeighbourOptions, Neighbours } from './neighbours.js';

/** The neighbours and how they were found (the method used, and why HNSW was not when it was wanted). */
export interface NeighbourSearch {
  readonly neighbours: Neighbours;
  readonly method: 'exact' | 'hnsw';
  readonly note?: string;
}

/** Default exactMaxRows: exact search up to this many rows. */
export const EXACT_MAX_ROWS = 10_000;

/**
 * The k nearest other rows of every row of `m`.
 *
 * @example
 * ```ts
 * const { neighbours, method } = findNeighbours(embeddings, 32);
 * const nearest = neighbours.indices[i * 32]; // row i's nearest other row
 * ```
 */
export function findNeighbours(m: FeatureMatrix, k: number, opts: NeighbourOptions = {}): NeighbourSearch {
  if (!(Number.isInteger(k) && k >= 1)) throw new PulError('option.outOfRange', `neighbourhood size k=${k} must be a positive integer`, { option: 'mining.neighbours' });
  const method = opts.method ?? 'auto';
  const exactMax = opts.exactMaxRows ?? EXACT_MAX_ROWS;
  const wantHnsw = method === 'hnsw' || (method === 'auto' && m.rows > exactMax);
  if (wantHnsw) {
    const missing = hnswUnavailable();
    if (missing === null) return { neighbours: hnswNeighbours(m, k, opts), method: 'hnsw' };
    if (method === 'hnsw') throw new PulError('option.invalid', `HNSW search needs the optional package usearch: ${missing}`, { option: 'mining.index' });
    return { neighbours: exactNeighbours(m, k), method: 'exact', note: `usearch unavailable (${missing}); exact search over ${m.rows} rows` };
  }
  return { neighbours: exactNeighbours(m, k), method: 'exact' };
}
