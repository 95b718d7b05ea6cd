/**
 * Approximate k-nearest-neighbour search on an HNSW graph (Malkov & Yashunin 2018) built by usearch, an
 * optional dependency loaded on first use: where its native module is missing, findNeighbours falls back
 * to exact search. The graph is built on one thread, so the same embeddings give the same graph and the
 * same neighbours (insertion order decides the graph); the search, read-only, uses every core.
 * The only file that imports usearch.
 */
import { createRequire } from 'node:module';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import type { NeighbourOptions, Neighbours } from './neighbours.js';

interface UsearchIndex {
  add(keys: BigUint64Array, vectors: Float32Array, threads?: number): void;
  search(vectors: Float32Array, k: number, threads?: number): { keys: BigUint64Array; distances: Float32Array; counts: BigUint64Array | Float64Array };
}
interface UsearchModule {
  Index: new (config: { dimensions: number; metric: string; quantization: string; connectivity: number; expansion_add: number; expansion_search: number; multi: boolean }) => UsearchIndex;
}

const require = createRequire(import.meta.url);
let loaded: { module: UsearchModule | null; error: string | null } | null = null;

function usearch(): { module: UsearchModule | null; error: string | null } {
  if (loaded === null) {
    try {
      loaded = { module: require('usearch') as UsearchModule, error: null };
    } catch (err) {
      loaded = { module: null, error: (err as Error).message.split('\n')[0] ?? 'cannot load' };
    }
  }
  return loaded;
}

/** Why HNSW search is unavailable (usearch not installed or its native module not loadable), or null. */
export function hnswUnavailable(): string | null {
  return usearch().error;
}

/** Row i's k nearest other rows from an HNSW graph over all rows (approximate: see the recall test). */
export function hnswNeighbours(m: FeatureMatrix, k: number, opts: NeighbourOptions = {}): Neighbours {
  const mod = usearch().module;
  if (mod === null) throw new Error(`usearch unavailable: ${hnswUnavailable()}`);
  const { rows: n, dim } = m;
  const indices = new Int32Array(n * k).fill(-1);
  const distances = new Float32Array(n * k).fill(Infinity);
  if (n < 2) return { rows: n, k, indices, distances };
  const index = new mod.Index({
    dimensions: dim,
    metric: 'l2sq',
    quantization: 'f32',
    connectivity: opts.connectivity ?? 16,
    expansion_add: opts.expansionAdd ?? 128,
    expansion_search: opts.expansionSearch ?? Math.max(64, 2 * k),
    multi: false,
  });
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = BigInt(i);
  index.add(keys, m.data, 1);
  // k + 1: the row itself comes back first (distance 0) and is dropped below
  const want = Math.min(k + 1, n);
  const found = index.search(m.data, want, 1);
  for (let i = 0; i < n; i++) {
    const count = Number(found.counts[i] ?? 0);
    let filled = 0;
    for (let r = 0; r < count && filled < k; r++) {
      const j = Number(found.keys[i * want + r]!);
      if (j === i) continue;
      indices[i * k + filled] = j;
      distances[i * k + filled] = Math.max(0, found.distances[i * want + r]!);
      filled++;
    }
  }
  return { rows: n, k, indices, distances };
}
