/**
 * Lloyd's k-means iterations with Hamerly's bounds (Hamerly 2010): every row keeps an upper bound on
 * the distance to its centre and a lower bound on the distance to any other; a row whose bounds prove its
 * assignment cannot change skips the distance computation, and the rows that cannot be proved are
 * re-assigned together as one GEMM block. The assignments are those of plain Lloyd (the bounds are
 * exact inequalities), so iterations, labels and inertia follow scikit-learn's `lloyd` loop:
 * assign → update centres (empty clusters relocated to the farthest rows) → stop when the labels repeat
 * (strict convergence) or Σ‖Δc‖² ≤ tol; a final assignment when not strictly converged.
 */
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { blockRows, dotBlock, transposedPoints } from './squared-distances.js';
import { rowSquaredNorms } from './clustering.js';

export interface LloydResult {
  readonly centroids: Float64Array;
  readonly assignment: Int32Array;
  readonly iterations: number;
  readonly converged: boolean;
  /** Rows whose distances to all centres were computed, per assignment pass (pruning diagnostic). */
  readonly recomputed: readonly number[];
}

/** Runs Lloyd from `init` (K × D, row-major). `tolAbs` is the absolute Σ‖Δc‖² threshold. */
export function lloyd(x: FeatureMatrix, init: ArrayLike<number>, k: number, maxIter: number, tolAbs: number, norms: Float64Array): LloydResult {
  const n = x.rows;
  const d = x.dim;
  let centres: Float64Array = Float64Array.from(init);
  const labels = new Int32Array(n);
  const labelsOld = new Int32Array(n).fill(-1);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const drift = new Float64Array(k);
  const recomputed: number[] = [];
  const sums = new CentreSums(x, k);

  const assignRows = (rows: Int32Array, count: number) => {
    if (count === 0) return;
    const c32 = Float32Array.from(centres);
    const ct = transposedPoints(c32, k, d, rowSquaredNorms(c32, k, d));
    try {
      const per = blockRows(k);
      const cNorms = ct.norms;
      // all rows: read x in place; otherwise gather the rows into one block
      const contiguous = count === n;
      const block = contiguous ? x.data : new Float32Array(Math.min(per, count) * d);
      for (let start = 0; start < count; start += per) {
        const m = Math.min(per, count - start);
        let dots: Float32Array;
        if (contiguous) dots = dotBlock(x.data.subarray(start * d, (start + m) * d), m, ct);
        else {
          for (let r = 0; r < m; r++) block.set(x.data.subarray(rows[start + r]! * d, (rows[start + r]! + 1) * d), r * d);
          dots = dotBlock(m * d === block.length ? block : block.subarray(0, m * d), m, ct);
        }
        for (let r = 0; r < m; r++) {
          const i = contiguous ? start + r : rows[start + r]!;
          let best = Infinity;
          let second = Infinity;
          let arg = 0;
          const o = r * k;
          for (let j = 0; j < k; j++) {
            const dist = norms[i]! + cNorms[j]! - 2 * dots[o + j]!;
            if (dist < best) {
              second = best;
              best = dist;
              arg = j;
            } else if (dist < second) second = dist;
          }
          labels[i] = arg;
          upper[i] = Math.sqrt(Math.max(0, best));
          // float32 GEMM rounding: keep the lower bound a hair below the computed distance
          lower[i] = Math.sqrt(Math.max(0, second)) * (1 - 1e-6);
        }
      }
    } finally {
      ct.dispose();
    }
    recomputed.push(count);
  };

  const exactDistance = (i: number, j: number) => {
    let s = 0;
    const xo = i * d;
    const co = j * d;
    for (let t = 0; t < d; t++) {
      const v = x.data[xo + t]! - centres[co + t]!;
      s += v * v;
    }
    return Math.sqrt(s);
  };

  const pending = new Int32Array(n);
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const boundedAssign = () => {
    let max1 = 0;
    let max2 = 0;
    let argMax = -1;
    for (let j = 0; j < k; j++) {
      if (drift[j]! > max1) {
        max2 = max1;
        max1 = drift[j]!;
        argMax = j;
      } else if (drift[j]! > max2) max2 = drift[j]!;
    }
    const half = halfSeparation(centres, k, d);
    let loose = 0;
    for (let i = 0; i < n; i++) {
      const a = labels[i]!;
      upper[i] = upper[i]! + drift[a]!;
      lower[i] = lower[i]! - (a === argMax ? max2 : max1);
      if (upper[i]! > Math.max(half[a]!, lower[i]!)) pending[loose++] = i;
    }
    // most rows unproved even before tightening: skip the per-row exact distances, recompute all
    if (loose > 0.85 * n) {
      assignRows(all, n);
      return;
    }
    let count = 0;
    for (let p = 0; p < loose; p++) {
      const i = pending[p]!;
      const a = labels[i]!;
      upper[i] = exactDistance(i, a);
      if (upper[i] > Math.max(half[a]!, lower[i]!)) pending[count++] = i;
    }
    // most rows unproved: one contiguous pass is cheaper than gathering them
    if (count > 0.7 * n) assignRows(all, n);
    else assignRows(pending, count);
  };

  let iterations = 0;
  let strict = false;
  let converged = false;
  for (let it = 0; it < maxIter; it++) {
    if (it === 0) assignRows(all, n);
    else boundedAssign();
    iterations = it + 1;
    const next = sums.update(labels, centres);
    let shift = 0;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const v = next[j * d + t]! - centres[j * d + t]!;
        s += v * v;
      }
      drift[j] = Math.sqrt(s);
      shift += s;
    }
    centres = next;
    if (sameLabels(labels, labelsOld)) {
      strict = true;
      converged = true;
      break;
    }
    if (shift <= tolAbs) {
      converged = true;
      break;
    }
    labelsOld.set(labels);
  }
  if (!strict) boundedAssign();
  return { centroids: centres, assignment: labels, iterations, converged, recomputed };
}

function sameLabels(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Per-cluster float64 sums and counts kept across iterations: only rows whose label changed move
 * (Hamerly's incremental update), instead of an O(N·D) pass every iteration.
 */
export class CentreSums {
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private readonly previous: Int32Array;

  constructor(
    private readonly x: FeatureMatrix,
    private readonly k: number,
  ) {
    this.sums = new Float64Array(k * x.dim);
    this.counts = new Float64Array(k);
    this.previous = new Int32Array(x.rows).fill(-1);
  }

  /** New centres (K × D) for `labels`; `old` gives empty clusters' relocation distances (as scikit-learn). */
  update(labels: Int32Array, old: Float64Array): Float64Array {
    const { x, k, sums, counts, previous } = this;
    const d = x.dim;
    for (let i = 0; i < x.rows; i++) {
      const a = labels[i]!;
      const p = previous[i]!;
      if (a === p) continue;
      const xo = i * d;
      if (p >= 0) {
        counts[p] = counts[p]! - 1;
        const po = p * d;
        for (let t = 0; t < d; t++) sums[po + t] = sums[po + t]! - x.data[xo + t]!;
      }
      counts[a] = counts[a]! + 1;
      const so = a * d;
      for (let t = 0; t < d; t++) sums[so + t] = sums[so + t]! + x.data[xo + t]!;
      previous[i] = a;
    }
    const out = Float64Array.from(sums);
    const n = Float64Array.from(counts);
    relocateEmpty(x, labels, old, out, n, k);
    for (let j = 0; j < k; j++) {
      if (n[j]! > 0) for (let t = 0; t < d; t++) out[j * d + t] = out[j * d + t]! / n[j]!;
      else for (let t = 0; t < d; t++) out[j * d + t] = old[j * d + t]!;
    }
    return out;
  }
}

/** scikit-learn's _relocate_empty_clusters: each empty cluster takes the row farthest from its old centre, farthest first. */
function relocateEmpty(x: FeatureMatrix, labels: Int32Array, old: Float64Array, sums: Float64Array, counts: Float64Array, k: number): void {
  const d = x.dim;
  const empty: number[] = [];
  for (let j = 0; j < k; j++) if (counts[j] === 0) empty.push(j);
  if (empty.length === 0) return;
  const far = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    const xo = i * d;
    const co = labels[i]! * d;
    for (let t = 0; t < d; t++) {
      const v = x.data[xo + t]! - old[co + t]!;
      s += v * v;
    }
    far[i] = s;
  }
  for (const j of empty) {
    let arg = 0;
    for (let i = 1; i < x.rows; i++) if (far[i]! > far[arg]!) arg = i;
    far[arg] = -1;
    const from = labels[arg]!;
    counts[from] = counts[from]! - 1;
    counts[j] = 1;
    for (let t = 0; t < d; t++) {
      sums[from * d + t] = sums[from * d + t]! - x.data[arg * d + t]!;
      sums[j * d + t] = x.data[arg * d + t]!;
    }
  }
}

/** Half the distance from each centre to its nearest other centre (Hamerly's s(j)). */
function halfSeparation(centres: Float64Array, k: number, d: number): Float64Array {
  const out = new Float64Array(k).fill(Infinity);
  if (k < 2) return out;
  const c32 = Float32Array.from(centres);
  const norms = rowSquaredNorms(c32, k, d);
  const ct = transposedPoints(c32, k, d, norms);
  try {
    const per = blockRows(k);
    for (let start = 0; start < k; start += per) {
      const m = Math.min(per, k - start);
      const dots = dotBlock(c32.subarray(start * d, (start + m) * d), m, ct);
      for (let r = 0; r < m; r++) {
        const j = start + r;
        let best = Infinity;
        for (let q = 0; q < k; q++) {
          if (q === j) continue;
          const v = norms[j]! + norms[q]! - 2 * dots[r * k + q]!;
          if (v < best) best = v;
        }
        // a hair below, for the float32 GEMM's rounding
        out[j] = 0.5 * Math.sqrt(Math.max(0, best)) * (1 - 1e-6);
      }
    }
  } finally {
    ct.dispose();
  }
  return out;
}
