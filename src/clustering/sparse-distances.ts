/**
 * A sparse, square distance matrix: the pairs a density clustering needs, never rows × rows.
 */

/**
 * Distances in CSR form: row i's stored pairs are index/distance[offsets[i] .. offsets[i + 1]), index
 * ascending. A pair that is not stored is "far" (beyond any radius a density clustering asks about).
 */
export interface SparseDistances {
  readonly rows: number;
  /** rows + 1 entries. */
  readonly offsets: Int32Array;
  readonly index: Int32Array;
  readonly distance: Float32Array;
}
