/**
 * `pul eval --db`: the Market-1501 metrics of retrieval through the index (PROTOCOLS.md), so an index
 * is measured like `pul eval` measures feature folders. Each query's `depth` nearest gallery rows come
 * from the index (HNSW unless exact); rows it did not return rank after them, in insertion order —
 * what a user of the index would see. With an exact search and depth ≥ the gallery, the figures equal
 * `pul eval`'s on the same features.
 */
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { PulError } from '../core/errors.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import type { IndexRow } from '../features/features-npy.js';
import { rankWith } from '../evaluation/evaluate.js';
import type { RankOptions, RankReport } from '../evaluation/rank.js';
import type { GalleryIndex } from './gallery-index.js';

/** Retrieval depth per query (default 100), exact search, progress. */
export interface IndexEvalOptions extends RankOptions {
  readonly depth?: number;
  readonly exact?: boolean;
  readonly efSearch?: number;
  readonly progress?: ProgressSink;
}

/** Cosine distances are in [0, 2]: rows not retrieved sit behind every retrieved one. */
const NOT_RETRIEVED = 4;

/**
 * @example
 * const query = await readFeatureFolder('features/query');
 * const report = await evaluateIndex(await GalleryIndex.open(db), query, { depth: 100 }); // report.mAP
 */
export async function evaluateIndex(index: GalleryIndex, query: { readonly features: FeatureMatrix; readonly index: readonly IndexRow[] }, options: IndexEvalOptions = {}, source = 'query'): Promise<RankReport> {
  const depth = options.depth ?? 100;
  const progress = options.progress ?? silentProgress;
  const { dim } = query.features;
  index.checkCompatible(dim, null, source);
  const labels = await index.labels();
  if (labels.paths.length === 0) throw new PulError('index.empty', `the index at ${index.db.location} has no rows to rank`, { option: '--db' });
  const position = new Map(labels.paths.map((p, i) => [p, i]));
  const galleryIndex: IndexRow[] = labels.paths.map((p, i) => ({ path: p, pid: labels.pids[i] ?? null, camid: labels.cameras[i] ?? -1 }));
  const retrieved: { rows: Int32Array; distances: Float32Array }[] = [];
  for (let q = 0; q < query.features.rows; q++) {
    const matches = await index.search(query.features.data.subarray(q * dim, (q + 1) * dim), { top: Math.min(depth, labels.paths.length), ...(options.exact ? { exact: true } : {}), ...(options.efSearch === undefined ? {} : { efSearch: options.efSearch }) });
    retrieved.push({ rows: Int32Array.from(matches, (m) => position.get(m.path)!), distances: Float32Array.from(matches, (m) => m.distance) });
    progress.update({ task: 'eval', done: q + 1, total: query.features.rows });
  }
  return rankWith(query.index, galleryIndex, options, { query: source, gallery: index.db.location }, (accumulator, q) => {
    const distances = new Float32Array(labels.paths.length);
    retrieved.forEach(({ rows, distances: d }, qi) => {
      distances.fill(NOT_RETRIEVED);
      rows.forEach((g, k) => (distances[g] = d[k]!));
      accumulator.addQuery(qi, distances, q.pids[qi]!, q.camids[qi]!);
    });
  });
}
