/**
 * k-reciprocal re-ranking (Zhong et al., CVPR 2017), as torchreid's re_ranking(q_g, q_q, g_g, k1, k2, λ),
 * without its N × N matrices (N = queries + gallery; 1.5 GB each at Market-1501 size). Distance rows are
 * streamed once to keep each row's k1 + 1 nearest neighbours and its largest distance; the k-reciprocal
 * weights V are sparse rows; the few distances they need are recomputed from the features.
 * Like torchreid, the distances handed in (cosine: 1 − cos, euclidean: squared L2) are squared and each
 * row divided by its maximum before re-ranking.
 */
import { featureMatrix, type FeatureMatrix } from '../features/feature-matrix.js';
import { distanceBlocks, type DistanceBlock, type DistanceMetric } from './distance.js';

/** k-reciprocal re-ranking parameters (Zhong et al. 2017: k1 20, k2 6, λ 0.3). */
export interface RerankOptions {
  readonly k1?: number;
  readonly k2?: number;
  readonly lambda?: number;
  readonly metric: DistanceMetric;
  readonly budgetFloats?: number;
}

interface SparseRow {
  readonly index: Int32Array; // ascending
  readonly value: Float32Array;
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

function kReciprocal(ranks: readonly Int32Array[], i: number, k: number): number[] {
  const forward = ranks[i]!.subarray(0, k + 1);
  return Array.from(forward).filter((f) => ranks[f]!.subarray(0, k + 1).includes(i));
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
  const ranks: Int32Array[] = new Array<Int32Array>(N);
  const rowMax = new Float64Array(N);
  const keep = Math.min(N, k1 + 1);
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
      ranks[block.first + r] = smallest(row, keep);
    }
  }
  const normalised = (i: number, j: number) => {
    const d = pairDistance(all, i, j, metric);
    return rowMax[i]! > 0 ? (d * d) / rowMax[i]! : 0;
  };

  // 2. k-reciprocal sets, expanded with their candidates' half-size sets; Gaussian weights
  const half = Math.round(k1 / 2);
  const V: SparseRow[] = new Array<SparseRow>(N);
  for (let i = 0; i < N; i++) {
    const reciprocal = kReciprocal(ranks, i, k1);
    const expansion = new Set(reciprocal);
    for (const candidate of reciprocal) {
      const candidateSet = kReciprocal(ranks, candidate, half);
      const shared = candidateSet.filter((c) => reciprocal.includes(c)).length;
      if (shared > (2 / 3) * candidateSet.length) for (const c of candidateSet) expansion.add(c);
    }
    const index = Int32Array.from([...expansion].sort((a, b) => a - b));
    const weights = Float64Array.from(index, (j) => Math.exp(-normalised(i, j)));
    const total = weights.reduce((a, b) => a + b, 0);
    V[i] = { index, value: Float32Array.from(weights, (w) => w / total) };
  }

  // 3. local query expansion: mean of the V rows of the k2 nearest neighbours
  let expanded = V;
  if (k2 !== 1) {
    const dense = new Float64Array(N);
    const touched: number[] = [];
    expanded = V.map((_, i) => {
      const neighbours = ranks[i]!.subarray(0, k2);
      for (const n of neighbours) {
        const row = V[n]!;
        for (let t = 0; t < row.index.length; t++) {
          const j = row.index[t]!;
          if (dense[j] === 0) touched.push(j);
          dense[j]! += row.value[t]!;
        }
      }
      touched.sort((a, b) => a - b);
      const index = Int32Array.from(touched);
      const value = Float32Array.from(touched, (j) => dense[j]! / neighbours.length);
      for (const j of touched) dense[j] = 0;
      touched.length = 0;
      return { index, value };
    });
  }

  // 4. inverted index: for each column, the rows with a weight there
  const columnRows: number[][] = Array.from({ length: N }, () => []);
  const columnValues: number[][] = Array.from({ length: N }, () => []);
  expanded.forEach((row, k) => {
    for (let t = 0; t < row.index.length; t++) {
      columnRows[row.index[t]!]!.push(k);
      columnValues[row.index[t]!]!.push(row.value[t]!);
    }
  });

  // 5. Jaccard distance of each query to every gallery item, mixed with the normalised original distance
  const overlap = new Float64Array(N);
  for (const block of distanceBlocks(query, gallery, { metric, ...budget })) {
    for (let r = 0; r < block.rows; r++) {
      const i = block.first + r;
      overlap.fill(0);
      const row = expanded[i]!;
      for (let t = 0; t < row.index.length; t++) {
        const j = row.index[t]!;
        const v = row.value[t]!;
        const rows = columnRows[j]!;
        const values = columnValues[j]!;
        for (let u = 0; u < rows.length; u++) overlap[rows[u]!]! += Math.min(v, values[u]!);
      }
      const out = block.data.subarray(r * G, (r + 1) * G);
      for (let g = 0; g < G; g++) {
        const m = overlap[Q + g]!;
        const jaccard = 1 - m / (2 - m);
        const original = rowMax[i]! > 0 ? (out[g]! * out[g]!) / rowMax[i]! : 0;
        out[g] = jaccard * (1 - lambda) + original * lambda;
      }
    }
    yield block;
  }
}
