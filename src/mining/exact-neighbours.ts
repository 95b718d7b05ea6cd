/**
 * Exact k-nearest-neighbour search by blocks: the squared distances of a block of rows to every row as
 * one GEMM (‖x‖² + ‖y‖² − 2·x·yᵀ, native SGEMM when loaded), then the k smallest per row by insertion
 * into a sorted buffer. Memory stays at one block × n floats.
 */
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { nearestRows } from '../clustering/squared-distances.js';
import type { Neighbours } from './neighbours.js';

/** Row i's k nearest other rows (ties: lower index first). */
export function exactNeighbours(m: FeatureMatrix, k: number): Neighbours {
  return { rows: m.rows, k, ...nearestRows(m, k) };
}
