/**
 * k-reciprocal re-ranking (Zhong et al., CVPR 2017), as torchreid's re_ranking(q_g, q_q, g_g, k1, k2, λ),
 * without its N × N matrices (N = queries + gallery; 1.5 GB each at Market-1501 size). Distance rows are
 * streamed once to keep each row's k1 + 1 nearest neighbours and its largest distance; the k-reciprocal
 * weights V are sparse rows; the few distances they need are recomputed from the features.
 * Like torchreid, the distances handed in (cosine: 1 − cos, euclidean: squared L2) are squared and each
 * row divided by its maximum before re-ranking.
 */
import { featureMatrix, type FeatureMatrix } from '../features/feature-matrix.js';
import { accumulateOverlap, kReciprocalWeights, localQueryExpansion, transposeRows, type RankLists } from '../features/k-reciprocal.js';
import { distanceBlocks, type DistanceBlock, type DistanceMetric } from './distance.js';

/** k-reciprocal re-ranking parameters (Zhong et al. 2017: k1 20, k2 6, λ 0.3). */
export interface RerankOptions {
  readonly k1?: number;
  readonly k2?: number;
  readonly lambda?: number;
  readonly metric: DistanceMetric;
  readonly budgetFloats?: number;
}

function concatRows(a: FeatureMatrix, b: FeatureMatrix): FeatureMatrix {
  const data = new Float32Array((a.rows + b.rows) * a.dim);
  data.set(a.data, 0);
  data.set(b.data, a.data.length);
  return featureMatrix(a.rows + b.rows, a.dim, data);
}

function pairDistance(m: FeatureMatrix, i: number, j: number, metric: DistanceMetric): number {
  let dot = 0;
  let ni = 0;
  let nj = 0;
  for (let t = 0; t < m.dim; t++) {
    const x = m.data[i * m.dim + t]!;
    const y = m.data[j * m.dim + t]!;
    dot += x * y;
    ni += x * x;
    nj += y * y;
  }
  return metric === 'cosine' ? 1 - dot : Math.max(0, ni + nj - 2 * dot);
}

/** Indices of the `count` smallest values of row (ties to the lower index), ascending. */
function smallest(row: Float32Array, count: number): Int32Array {
  const idx = new Int32Array(count).fill(-1);
  const val = new Float64Array(count).fill(Infinity);
  let filled = 0;
  for (let j = 0; j < row.length; j++) {
    const v = row[j]!;
    if (filled === count && v >= val[count - 1]!) continue;
    let p = filled < count ? filled++ : count - 1;
    while (p > 0 && val[p - 1]! > v) {
      val[p] = val[p - 1]!;
      idx[p] = idx[p - 1]!;
      p--;
    }
    val[p] = v;
    idx[p] = j;
  }
  return idx.subarray(0, filled);
}

/**
 * Re-ranked query × gallery distances, in blocks of query rows (the same shape as distanceBlocks).
 * `query` and `gallery` must already be L2-normalised for the cosine metric.
 */
export function* rerankedDistanceBlocks(query: FeatureMatrix, gallery: FeatureMatrix, options: RerankOptions): Generator<DistanceBlock> {
  const k1 = options.k1 ?? 20;
  const k2 = options.k2 ?? 6;
  const lambda = options.lambda ?? 0.3;
  const metric = options.metric;
  const all = concatRows(query, gallery);
  const N = all.rows;
  const Q = query.rows;
  const G = gallery.rows;
  const budget = options.budgetFloats !== undefined ? { budgetFloats: options.budgetFloats } : {};

  // 1. each row's k1+1 nearest neighbours and largest squared distance
  const keep = Math.min(N, k1 + 1);
  const ranks: RankLists = { rows: N, width: keep, index: new Int32Array(N * keep) };
  const rowMax = new Float64Array(N);
  for (const block of distanceBlocks(all, all, { metric, ...budget })) {
    for (let r = 0; r < block.rows; r++) {
      const row = block.data.subarray(r * N, (r + 1) * N);
      let max = 0;
      for (let j = 0; j < N; j++) {
        const sq = row[j]! * row[j]!;
        row[j] = sq;
        if (sq > max) max = sq;
      }
      rowMax[block.first + r] = max;
      ranks.index.set(smallest(row, keep), (block.first + r) * keep);
    }
  }
  const normalised = (i: number, j: number) => {
    const d = pairDistance(all, i, j, metric);
    return rowMax[i]! > 0 ? (d * d) / rowMax[i]! : 0;
  };

  // 2–4. k-reciprocal weights (half-size sets: torchreid's round(k1 / 2)), local query expansion, inverted index
  const V = kReciprocalWeights(ranks, k1, Math.round(k1 / 2), normalised);
  const expanded = k2 !== 1 ? localQueryExpansion(V, ranks, k2) : V;
  const byColumn = transposeRows(expanded, N);

  // 5. Jaccard distance of each query to every gallery item, mixed with the normalised original distance
  const overlap = new Float64Array(N);
  const touched = new Int32Array(N);
  for (const block of distanceBlocks(query, gallery, { metric, ...budget })) {
    for (let r = 0; r < block.rows; r++) {
      const i = block.first + r;
      const count = accumulateOverlap(expanded, byColumn, i, overlap, touched);
      const out = block.data.subarray(r * G, (r + 1) * G);
      for (let g = 0; g < G; g++) {
        const m = overlap[Q + g]!;
        const jaccard = 1 - m / (2 - m);
        const original = rowMax[i]! > 0 ? (out[g]! * out[g]!) / rowMax[i]! : 0;
        out[g] = jaccard * (1 - lambda) + original * lambda;
      }
      for (let t = 0; t < count; t++) overlap[touched[t]!] = 0;
    }
    yield block;
  }
}
