/**
 * Lloyd's k-means iterations as scikit-learn's `lloyd` loop: assign → update centres (empty clusters
 * relocated to the farthest rows) → stop when the labels repeat (strict convergence) or Σ‖Δc‖² ≤ tol;
 * a final assignment when not strictly converged. The assignments skip the distances that bounds prove
 * irrelevant (Yinyang, see yinyang-assigner.ts) and are those of plain Lloyd.
 */
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { loadedNativeKernels, type NativeKernels } from '../backend/native.js';
import { groupCentres, YinyangAssigner } from './yinyang-assigner.js';

export interface LloydResult {
  readonly centroids: Float64Array;
  readonly assignment: Int32Array;
  readonly iterations: number;
  readonly converged: boolean;
  /** Share of the N·K distances computed, per assignment pass (pruning diagnostic). */
  readonly computedShare: readonly number[];
}

/** Centres per Yinyang group: large groups keep the native search's 16-wide panels full; 64 was fastest on the bench shapes (32 at 2048-d, within 7 %). */
export const DEFAULT_GROUP_SIZE = 64;

/** Runs Lloyd from `init` (K × D, row-major). `tolAbs` is the absolute Σ‖Δc‖² threshold. */
export interface LloydOptions {
  /** Centres per Yinyang group (default DEFAULT_GROUP_SIZE). */
  readonly groupSize?: number;
  /** Use the native kernels when loaded (default true; false runs the tfjs/JS path, for tests). */
  readonly native?: boolean;
}

export function lloyd(x: FeatureMatrix, init: ArrayLike<number>, k: number, maxIter: number, tolAbs: number, norms: Float64Array, options: LloydOptions = {}): LloydResult {
  const native = options.native === false ? null : loadedNativeKernels();
  const d = x.dim;
  let centres: Float64Array = Float64Array.from(init);
  const labels = new Int32Array(x.rows);
  const labelsOld = new Int32Array(x.rows).fill(-1);
  const drift = new Float64Array(k);
  const computedShare: number[] = [];
  const sums = new CentreSums(x, k, native);
  const assigner = new YinyangAssigner(x, norms, k, groupCentres(Float32Array.from(init), k, d, options.groupSize ?? DEFAULT_GROUP_SIZE, native), native);

  let iterations = 0;
  let strict = false;
  let converged = false;
  for (let it = 0; it < maxIter; it++) {
    computedShare.push(it === 0 ? assigner.assignAll(centres, labels) : assigner.assign(centres, drift, labels));
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
  if (!strict) computedShare.push(assigner.assign(centres, drift, labels));
  return { centroids: centres, assignment: labels, iterations, converged, computedShare };
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
    private readonly native: NativeKernels | null = null,
  ) {
    this.sums = new Float64Array(k * x.dim);
    this.counts = new Float64Array(k);
    this.previous = new Int32Array(x.rows).fill(-1);
  }

  /** New centres (K × D) for `labels`; `old` gives empty clusters' relocation distances (as scikit-learn). */
  update(labels: Int32Array, old: Float64Array): Float64Array {
    const { x, k, sums, counts, previous } = this;
    const d = x.dim;
    const native = this.native;
    if (native) native.kmeansAccumulate(x.data, d, labels, previous, sums, counts);
    else {
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
