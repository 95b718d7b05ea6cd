/**
 * Loading embeddings into a gallery index, resumably: rows whose path is already in are skipped,
 * the rest go in batches of one transaction each, so a process killed mid-way (even kill -9) loses
 * only the batch in flight and a re-run completes the index. The HNSW index is built after the load
 * (faster than inserting through it) — or kept, when the load is small next to what is indexed.
 */
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { PulError } from '../core/errors.js';
import { assertFinite, type FeatureMatrix } from '../features/feature-matrix.js';
import type { IndexRow } from '../features/features-npy.js';
import type { GalleryIndex, GalleryRow } from './gallery-index.js';

/** What one load did: rows added and skipped (already in, or repeated in the input), times in seconds. */
export interface IndexLoadReport {
  readonly added: number;
  readonly skipped: number;
  /** Rows in the index afterwards. */
  readonly total: number;
  readonly insertSeconds: number;
  /** Building HNSW indexes (0 when every one was kept). */
  readonly annSeconds: number;
}

/** Rows per transaction (default 2 000), and where progress goes. */
export interface IndexLoadOptions {
  readonly batchSize?: number;
  readonly progress?: ProgressSink;
  readonly signal?: AbortSignal;
}

/** A source of rows to load: the index rows and a function giving their embeddings (rows × dim) for a block. */
export interface EmbeddingSource {
  /** For messages, e.g. the feature folder. */
  readonly name: string;
  readonly index: readonly IndexRow[];
  /** Embeddings of rows `positions` (indices into `index`), rows × dim, in that order. */
  embed(positions: readonly number[]): Promise<Float32Array>;
}

/** A feature folder as an embedding source (its matrix is already in memory). */
export function featureSource(name: string, features: FeatureMatrix, index: readonly IndexRow[]): EmbeddingSource {
  assertFinite(features, name);
  return {
    name,
    index,
    embed: (positions) => {
      const out = new Float32Array(positions.length * features.dim);
      positions.forEach((p, i) => out.set(features.data.subarray(p * features.dim, (p + 1) * features.dim), i * features.dim));
      return Promise.resolve(out);
    },
  };
}

function galleryRow(row: IndexRow): GalleryRow {
  return { path: row.path, pid: row.pid, camera: row.camid, time: row.time ?? null };
}

/**
 * Loads every source's rows that are not in `index` yet (the first of repeated paths wins).
 * @example
 * const report = await loadIntoIndex(index, [featureSource('features/gallery', folder.features, folder.index)]);
 * report.added; // rows inserted this time; a re-run adds 0
 */
export async function loadIntoIndex(index: GalleryIndex, sources: readonly EmbeddingSource[], options: IndexLoadOptions = {}): Promise<IndexLoadReport> {
  const batchSize = options.batchSize ?? 2000;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new PulError('option.outOfRange', `batch size ${batchSize} must be a positive integer`, { option: '--batch' });
  const progress = options.progress ?? silentProgress;
  const seen = await index.paths();
  const before = seen.size;
  const todo = sources.map((source) => {
    const positions: number[] = [];
    source.index.forEach((row, i) => {
      if (seen.has(row.path)) return;
      seen.add(row.path);
      positions.push(i);
    });
    return { source, positions };
  });
  const total = todo.reduce((n, t) => n + t.positions.length, 0);
  const inputRows = sources.reduce((n, s) => n + s.index.length, 0);
  // rebuilding the graph once beats inserting more rows through it than it holds
  if (total > before && (await index.hasAnnIndex())) await index.dropAnnIndex();
  const started = performance.now();
  let added = 0;
  for (const { source, positions } of todo) {
    for (let at = 0; at < positions.length; at += batchSize) {
      if (options.signal?.aborted) throw new PulError('interrupted', `pul index interrupted after ${added} of ${total} new rows (all committed; re-run to add the rest)`);
      const block = positions.slice(at, at + batchSize);
      const vectors = await source.embed(block);
      await index.insert(block.map((p) => galleryRow(source.index[p]!)), vectors);
      added += block.length;
      progress.update({ task: 'index', done: added, total });
    }
  }
  const insertSeconds = (performance.now() - started) / 1000;
  const annStarted = performance.now();
  // builds what is missing: the whole graph after a drop or a kill, a camera's once it has grown enough
  const built = await index.buildAnnIndex({ onIndex: (what) => progress.log(`building ${what}`) });
  return { added, skipped: inputRows - added, total: before + added, insertSeconds, annSeconds: built === 0 ? 0 : (performance.now() - annStarted) / 1000 };
}
