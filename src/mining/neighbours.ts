/** What a k-nearest-neighbour search returns and the options it takes (find-neighbours.ts chooses the search). */

/** Row i's k neighbours (self excluded), nearest first: indices and squared distances, rows × k. */
export interface Neighbours {
  readonly rows: number;
  readonly k: number;
  /** rows × k, row-major; −1 where fewer than k other rows exist. */
  readonly indices: Int32Array;
  /** rows × k squared Euclidean distances (Infinity beside a −1). */
  readonly distances: Float32Array;
}

/** How neighbours are searched: 'auto' = exact up to exactMaxRows rows, else HNSW (exact when usearch is absent). */
export type NeighbourMethod = 'auto' | 'exact' | 'hnsw';

/** Options of findNeighbours. */
export interface NeighbourOptions {
  readonly method?: NeighbourMethod;
  /** Largest set searched exactly under 'auto'; default EXACT_MAX_ROWS (10 000). */
  readonly exactMaxRows?: number;
  /** HNSW graph degree (usearch connectivity); default 16. */
  readonly connectivity?: number;
  /** HNSW candidate list while building; default 128. */
  readonly expansionAdd?: number;
  /** HNSW candidate list while searching; default max(64, 2k). */
  readonly expansionSearch?: number;
}
