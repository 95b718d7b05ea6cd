/**
 * The k-reciprocal encoding of Zhong et al. (CVPR 2017) on sparse rows, shared by re-ranking
 * (evaluation/rerank.ts) and the Jaccard distance of density clustering (clustering/k-reciprocal-jaccard.ts).
 * Everything here is O(rows × k) memory: rank lists of width ≈ k1, weight rows of ≈ 1.5·k1 entries, and
 * after query expansion ≈ k2 times that; never a rows × rows matrix.
 */

/** Each row's nearest rows, nearest first: `width` per row, row-major (rows × width). */
export interface RankLists {
  readonly rows: number;
  readonly width: number;
  readonly index: Int32Array;
}

/** Sparse rows (CSR): row r holds index/value[offsets[r] .. offsets[r + 1]), index ascending. */
export interface SparseRows {
  readonly rows: number;
  /** rows + 1 entries. */
  readonly offsets: Int32Array;
  readonly index: Int32Array;
  readonly value: Float32Array;
}

/** Row i's k-reciprocal neighbours: the first k + 1 of its list whose own first k + 1 hold i (Zhong et al., eq. 2). */
export function kReciprocalNeighbours(ranks: RankLists, i: number, k: number): Int32Array {
  const take = Math.min(k + 1, ranks.width);
  const out: number[] = [];
  const base = i * ranks.width;
  for (let a = 0; a < take; a++) {
    const f = ranks.index[base + a]!;
    const fb = f * ranks.width;
    for (let b = 0; b < take; b++) {
      if (ranks.index[fb + b] === i) {
        out.push(f);
        break;
      }
    }
  }
  return Int32Array.from(out);
}

/**
 * The weight rows V (Zhong et al., eq. 7–10): row i's k1-reciprocal set, grown by each member's
 * `half`-reciprocal set when more than 2/3 of that set already lies in it, weighted by
 * exp(−distance(i, j)) normalised to sum 1 (a softmax over −distance, as SpCL computes it).
 * `half` is round(k1 / 2) in the caller's rounding.
 */
export function kReciprocalWeights(ranks: RankLists, k1: number, half: number, distance: (i: number, j: number) => number): SparseRows {
  const N = ranks.rows;
  const halfSets = Array.from({ length: N }, (_, i) => kReciprocalNeighbours(ranks, i, half));
  const offsets = new Int32Array(N + 1);
  const index: number[] = [];
  const value: number[] = [];
  const member = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    const reciprocal = kReciprocalNeighbours(ranks, i, k1);
    for (const r of reciprocal) member[r] = 1;
    const expansion = new Set<number>(reciprocal);
    for (const candidate of reciprocal) {
      const candidateSet = halfSets[candidate]!;
      let shared = 0;
      for (const c of candidateSet) shared += member[c]!;
      if (shared > (2 / 3) * candidateSet.length) for (const c of candidateSet) expansion.add(c);
    }
    for (const r of reciprocal) member[r] = 0;
    const row = Int32Array.from(expansion).sort();
    const weights = Float64Array.from(row, (j) => Math.exp(-distance(i, j)));
    let total = 0;
    for (const w of weights) total += w;
    for (let t = 0; t < row.length; t++) {
      index.push(row[t]!);
      value.push(weights[t]! / total);
    }
    offsets[i + 1] = index.length;
  }
  return { rows: N, offsets, index: Int32Array.from(index), value: Float32Array.from(value) };
}

/** Local query expansion (Zhong et al., eq. 11): row i becomes the mean of the V rows of its first k2 rank-list entries. */
export function localQueryExpansion(V: SparseRows, ranks: RankLists, k2: number): SparseRows {
  const N = V.rows;
  const dense = new Float64Array(N);
  const touched: number[] = [];
  const offsets = new Int32Array(N + 1);
  let index = new Int32Array(Math.max(16, V.index.length * Math.min(k2, 4)));
  let value = new Float32Array(index.length);
  let used = 0;
  const take = Math.min(k2, ranks.width);
  for (let i = 0; i < N; i++) {
    for (let a = 0; a < take; a++) {
      const n = ranks.index[i * ranks.width + a]!;
      for (let t = V.offsets[n]!; t < V.offsets[n + 1]!; t++) {
        const j = V.index[t]!;
        if (dense[j] === 0) touched.push(j);
        dense[j]! += V.value[t]!;
      }
    }
    touched.sort((a, b) => a - b);
    if (used + touched.length > index.length) {
      const size = Math.max(2 * index.length, used + touched.length);
      index = grow(index, size);
      value = grow(value, size);
    }
    for (const j of touched) {
      index[used] = j;
      value[used++] = dense[j]! / take;
      dense[j] = 0;
    }
    touched.length = 0;
    offsets[i + 1] = used;
  }
  return { rows: N, offsets, index: index.slice(0, used), value: value.slice(0, used) };
}

/** The transpose of `rows` as `columns` sparse rows (row r of the result: the rows holding column r, ascending). */
export function transposeRows(rows: SparseRows, columns: number): SparseRows {
  const offsets = new Int32Array(columns + 1);
  for (const j of rows.index) offsets[j + 1]!++;
  for (let c = 0; c < columns; c++) offsets[c + 1]! += offsets[c]!;
  const fill = offsets.slice(0, columns);
  const index = new Int32Array(rows.index.length);
  const value = new Float32Array(rows.index.length);
  for (let r = 0; r < rows.rows; r++) {
    for (let t = rows.offsets[r]!; t < rows.offsets[r + 1]!; t++) {
      const at = fill[rows.index[t]!]!++;
      index[at] = r;
      value[at] = rows.value[t]!;
    }
  }
  return { rows: columns, offsets, index, value };
}

/**
 * Σ_c min(V[i, c], V[k, c]) for every row k sharing a column with row i (the numerator of the
 * Jaccard distance 1 − m / (2 − m), Zhong et al. eq. 12), added into `overlap` (zero on entry wherever
 * it is read); the rows touched are written to `touched` (unordered) and their count returned.
 * `byColumn` is transposeRows(V).
 */
export function accumulateOverlap(V: SparseRows, byColumn: SparseRows, i: number, overlap: Float64Array, touched: Int32Array): number {
  let count = 0;
  for (let t = V.offsets[i]!; t < V.offsets[i + 1]!; t++) {
    const c = V.index[t]!;
    const v = V.value[t]!;
    for (let u = byColumn.offsets[c]!; u < byColumn.offsets[c + 1]!; u++) {
      const k = byColumn.index[u]!;
      if (overlap[k] === 0) touched[count++] = k;
      overlap[k]! += Math.min(v, byColumn.value[u]!);
    }
  }
  return count;
}

function grow<T extends Int32Array | Float32Array>(a: T, size: number): T {
  const out = new (a.constructor as new (n: number) => T)(size);
  out.set(a);
  return out;
}
