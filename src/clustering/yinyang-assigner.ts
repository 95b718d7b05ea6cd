/**
 * The assignment step of Lloyd's k-means with Yinyang bounds (Ding et al., ICML 2015). The centres are
 * split once into groups (k-means on the initial centres). Every row keeps an upper bound on the distance
 * to its centre and, per group, a lower bound on the distance to any centre of the group other than its
 * own. After the centres move, the bounds move by the drifts; a row whose upper bound is below every
 * group's lower bound keeps its centre without any distance computed; otherwise only the groups whose
 * lower bound is below the (tightened) upper bound are searched. The bounds are exact inequalities (with
 * a small margin for float32 rounding), so the labels are those of plain Lloyd.
 * With the native kernels the whole step runs in C on every core (native/src/kmeans.c: a 6×16 AVX2
 * micro-kernel over the groups' packed centres, rows read in place); without them the searched
 * (row, group) pairs are GEMM blocks on the tfjs backend, group by group.
 */
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { rowSquaredNorms } from './clustering.js';
import { loadedNativeKernels, type NativeKernels } from '../backend/native.js';
import { blockRows, nearestPoints, transposedPoints } from './squared-distances.js';

/** Safety margins for float32 GEMM rounding: lower bounds a hair low, upper bounds a hair high. */
const LOW = 1 - 1e-6;
const HIGH = 1 + 1e-6;
/** Above this share of the N·K distances, one contiguous full pass is cheaper than gathering rows per group. */
const FULL_PASS_SHARE = 0.6;
/** Largest gathered block (values), so a gathered 2048-d block stays a few MB. */
const GATHER_BUDGET = 1 << 21;

export interface CentreGroups {
  readonly count: number;
  /** Group of each centre. */
  readonly groupOf: Int32Array;
  /** Centres listed group after group, and where each group starts in that list (count + 1 entries). */
  readonly order: Int32Array;
  readonly start: Int32Array;
}

/**
 * Groups the K centres into about K / `size` groups of nearby centres: a few Lloyd iterations on the
 * centres from the first `count` of them (k-means++ lists its centres spread out). Empty groups are dropped.
 */
export function groupCentres(centres: Float32Array, k: number, d: number, size: number, native: NativeKernels | null = loadedNativeKernels()): CentreGroups {
  const wanted = Math.max(1, Math.min(k, Math.round(k / size)));
  let seeds = centres.slice(0, wanted * d);
  let groupOf = new Int32Array(k);
  for (let it = 0; it < 5; it++) {
    groupOf = nearestPoints(centres, k, seeds, wanted, d, native);
    const next = new Float64Array(wanted * d);
    const counts = new Float64Array(wanted);
    for (let j = 0; j < k; j++) {
      const g = groupOf[j]!;
      counts[g] = counts[g]! + 1;
      for (let t = 0; t < d; t++) next[g * d + t] = next[g * d + t]! + centres[j * d + t]!;
    }
    seeds = Float32Array.from(next, (v, i) => (counts[Math.floor(i / d)]! > 0 ? v / counts[Math.floor(i / d)]! : seeds[i]!));
  }
  groupOf = nearestPoints(centres, k, seeds, wanted, d, native);
  // compact: drop empty groups, list the centres group by group
  const used = new Int32Array(wanted).fill(-1);
  let count = 0;
  for (let j = 0; j < k; j++) if (used[groupOf[j]!] === -1) used[groupOf[j]!] = count++;
  const sizes = new Int32Array(count);
  for (let j = 0; j < k; j++) {
    groupOf[j] = used[groupOf[j]!]!;
    sizes[groupOf[j]!]!++;
  }
  const start = new Int32Array(count + 1);
  for (let g = 0; g < count; g++) start[g + 1] = start[g]! + sizes[g]!;
  const fill = start.slice(0, count);
  const order = new Int32Array(k);
  for (let j = 0; j < k; j++) order[fill[groupOf[j]!]!++] = j;
  return { count, groupOf, order, start };
}

/** Centres listed group after group (float32, K × D) with their float64 squared norms. */
interface ListedCentres {
  readonly data: Float32Array;
  readonly norms: Float64Array;
}

/** Per (listed row, group) search results, squared distances: nearest, its centre, second nearest. */
interface GroupMinima {
  readonly near1: Float64Array;
  readonly arg1: Int32Array;
  readonly near2: Float64Array;
}

/** Searches the groups `need` marks (count × groups; null: all) for each listed row. */
type GroupSearch = (rows: Int32Array, need: Uint8Array | null, centres: ListedCentres) => GroupMinima;

/** Per-row assignment state across Lloyd iterations: labels, upper bounds, per-group lower bounds. */
export class YinyangAssigner {
  private readonly n: number;
  private readonly d: number;
  private readonly t: number;
  private readonly upper: Float64Array;
  private readonly lower: Float64Array;
  private readonly allRows: Int32Array;
  private readonly search: GroupSearch;

  constructor(
    private readonly x: FeatureMatrix,
    private readonly norms: Float64Array,
    private readonly k: number,
    private readonly groups: CentreGroups,
    /** The native kernels run the whole step; null: the tfjs GEMM path. */
    private readonly native: NativeKernels | null,
  ) {
    this.n = x.rows;
    this.d = x.dim;
    this.t = groups.count;
    this.upper = new Float64Array(this.n);
    this.lower = new Float64Array(this.n * this.t);
    this.allRows = Int32Array.from({ length: this.n }, (_, i) => i);
    this.search = gemmSearch(x, norms, groups);
  }

  /** The whole step in native code (bounds, search, settle per block of rows on every core). */
  private nativeStep(native: NativeKernels, centres: Float64Array, drift: Float64Array | null, labels: Int32Array): number {
    const { x, groups } = this;
    const listed = this.listed(centres);
    const work = native.kmeansStep(x.data, x.dim, this.norms, listed.data, listed.norms, groups.order, groups.start, groups.groupOf, centres, drift, labels, this.upper, this.lower);
    return work / (this.n * this.k);
  }

  /** Distances of every row to every centre; sets labels and all bounds. Returns the share of N·K computed (1). */
  assignAll(centres: Float64Array, labels: Int32Array): number {
    if (this.native) return this.nativeStep(this.native, centres, null, labels);
    const found = this.search(this.allRows, null, this.listed(centres));
    for (let i = 0; i < this.n; i++) this.settle(i, i, found, null, labels, true);
    return 1;
  }

  /**
   * One bounded assignment after the centres moved by `drift` (per centre). Updates labels and bounds;
   * returns the share of the N·K distances computed.
   */
  assign(centres: Float64Array, drift: Float64Array, labels: Int32Array): number {
    if (this.native) return this.nativeStep(this.native, centres, drift, labels);
    const { n, t, groups, upper, lower } = this;
    const groupDrift = new Float64Array(t);
    for (let j = 0; j < this.k; j++) groupDrift[groups.groupOf[j]!] = Math.max(groupDrift[groups.groupOf[j]!]!, drift[j]!);
    // filter 1: the moved bounds; filter 2: the same with the exact distance to the row's own centre
    const open: number[] = [];
    for (let i = 0; i < n; i++) {
      upper[i] = upper[i]! + drift[labels[i]!]!;
      let lo = Infinity;
      for (let g = 0, o = i * t; g < t; g++, o++) {
        lower[o] = lower[o]! - groupDrift[g]!;
        if (lower[o]! < lo) lo = lower[o]!;
      }
      if (upper[i]! <= lo) continue;
      upper[i] = this.exactDistance(i, labels[i]!, centres);
      if (upper[i]! > lo) open.push(i);
    }
    // the groups each open row must search; too many → one full pass
    const rows = Int32Array.from(open);
    const need = new Uint8Array(rows.length * t);
    let work = 0;
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r]!;
      for (let g = 0; g < t; g++) {
        if (lower[i * t + g]! < upper[i]!) {
          need[r * t + g] = 1;
          work += groups.start[g + 1]! - groups.start[g]!;
        }
      }
    }
    if (work > FULL_PASS_SHARE * n * this.k) return this.assignAll(centres, labels);
    if (rows.length > 0) {
      const found = this.search(rows, need, this.listed(centres));
      for (let r = 0; r < rows.length; r++) this.settle(rows[r]!, r, found, need, labels, false);
    }
    return work / (n * this.k);
  }

  /**
   * New label and bounds of row i (listed as r) from the groups searched now. From scratch every group
   * was searched; otherwise the row's exact distance to its old centre (in `upper`) competes too, and the
   * groups not searched keep their bounds, widened to cover the old centre when the row leaves it.
   */
  private settle(i: number, r: number, found: GroupMinima, need: Uint8Array | null, labels: Int32Array, fromScratch: boolean): void {
    const { t, groups, upper, lower } = this;
    const { near1, arg1, near2 } = found;
    const old = labels[i]!;
    const exactOld = upper[i]!;
    let best = fromScratch ? Infinity : exactOld * exactOld;
    let arg = fromScratch ? -1 : old;
    for (let g = 0, o = r * t; g < t; g++, o++) {
      if ((need === null || need[o] === 1) && (near1[o]! < best || (near1[o] === best && arg1[o]! < arg))) [best, arg] = [near1[o]!, arg1[o]!];
    }
    labels[i] = arg;
    upper[i] = !fromScratch && arg === old ? exactOld : Math.sqrt(best) * HIGH;
    for (let g = 0, o = r * t, l = i * t; g < t; g++, o++, l++) {
      if (need === null || need[o] === 1) lower[l] = Math.sqrt(arg1[o] === arg ? near2[o]! : near1[o]!) * LOW;
      else if (arg !== old && groups.groupOf[old] === g) lower[l] = Math.min(lower[l]!, exactOld);
    }
  }

  /** Float64 distance of row i to centre j (the tightened upper bound). */
  private exactDistance(i: number, j: number, centres: Float64Array): number {
    const { d } = this;
    const xs = this.x.data;
    let s = 0;
    for (let q = 0, xo = i * d, co = j * d; q < d; q++) {
      const v = xs[xo + q]! - centres[co + q]!;
      s += v * v;
    }
    return Math.sqrt(s);
  }

  /** The centres listed group after group, in float32. */
  private listed(centres: Float64Array): ListedCentres {
    const { d, k } = this;
    const data = new Float32Array(k * d);
    for (let p = 0; p < k; p++) {
      const j = this.groups.order[p]!;
      for (let q = 0; q < d; q++) data[p * d + q] = centres[j * d + q]!;
    }
    return { data, norms: rowSquaredNorms(data, k, d) };
  }
}

/**
 * Without the native kernels: GEMM blocks on the tfjs backend, group by group over the rows that need
 * the group (gathered), or every row against every centre in one pass when all rows need all groups.
 */
function gemmSearch(x: FeatureMatrix, norms: Float64Array, groups: CentreGroups): GroupSearch {
  const { dim: d } = x;
  const t = groups.count;
  return (rows, need, centres) => {
    const size = rows.length * t;
    const found = { near1: new Float64Array(size), arg1: new Int32Array(size), near2: new Float64Array(size) };
    const k = groups.start[t]!;
    if (need === null) {
      const points = transposedPoints(centres.data, k, d, centres.norms, null);
      try {
        forBlocks(x, rows, k, (block, first, m) => {
          const dots = points.dot(block, m);
          for (let r = 0; r < m; r++) groupMinima(dots, r * k, norms[rows[first + r]!]!, centres.norms, groups, 0, t, found, (first + r) * t);
        });
      } finally {
        points.dispose();
      }
      return found;
    }
    for (let g = 0; g < t; g++) {
      const members: number[] = [];
      for (let r = 0; r < rows.length; r++) if (need[r * t + g] === 1) members.push(r);
      if (members.length === 0) continue;
      const lo = groups.start[g]!;
      const size = groups.start[g + 1]! - lo;
      const points = transposedPoints(centres.data.subarray(lo * d, (lo + size) * d), size, d, centres.norms.subarray(lo, lo + size), null);
      const listed = Int32Array.from(members, (r) => rows[r]!);
      try {
        forBlocks(x, listed, size, (block, first, m) => {
          const dots = points.dot(block, m);
          for (let q = 0; q < m; q++) {
            const r = members[first + q]!;
            groupMinima(dots, q * size - lo, norms[rows[r]!]!, centres.norms, groups, g, g + 1, found, r * t + g);
          }
        });
      } finally {
        points.dispose();
      }
    }
    return found;
  };
}

/** Calls `fn` with consecutive blocks of the listed rows (in place when they are all rows in order). */
function forBlocks(x: FeatureMatrix, rows: Int32Array, columns: number, fn: (block: Float32Array, first: number, m: number) => void): void {
  const d = x.dim;
  const contiguous = rows.length === x.rows && rows.every((v, i) => v === i);
  const per = Math.max(1, Math.min(blockRows(columns), contiguous ? Infinity : Math.floor(GATHER_BUDGET / d)));
  const gathered = contiguous ? null : new Float32Array(Math.min(per, rows.length) * d);
  for (let first = 0; first < rows.length; first += per) {
    const m = Math.min(per, rows.length - first);
    if (gathered === null) fn(x.data.subarray(first * d, (first + m) * d), first, m);
    else {
      for (let r = 0; r < m; r++) gathered.set(x.data.subarray(rows[first + r]! * d, (rows[first + r]! + 1) * d), r * d);
      fn(m * d === gathered.length ? gathered : gathered.subarray(0, m * d), first, m);
    }
  }
}

/**
 * For one row of a dot-product block (listed centre p's dot product at dots[offset + p]): per group g in
 * [g0, g1) the smallest squared distance, its centre (lowest index on ties) and the second smallest,
 * written at out + (g − g0).
 */
function groupMinima(dots: Float32Array, offset: number, rowNorm: number, cNorms: Float64Array, groups: CentreGroups, g0: number, g1: number, found: GroupMinima, out: number): void {
  for (let g = g0; g < g1; g++) {
    let best = Infinity;
    let arg = -1;
    let second = Infinity;
    for (let p = groups.start[g]!; p < groups.start[g + 1]!; p++) {
      const j = groups.order[p]!;
      const v = Math.max(0, rowNorm + cNorms[p]! - 2 * dots[offset + p]!);
      if (v < best || (v === best && j < arg)) {
        second = best;
        best = v;
        arg = j;
      } else if (v < second) second = v;
    }
    found.near1[out + g - g0] = best;
    found.arg1[out + g - g0] = arg;
    found.near2[out + g - g0] = second;
  }
}
