/**
 * Clustering quality against true labels: NMI and AMI (arithmetic-mean normalisation, as
 * scikit-learn's defaults) and cluster accuracy (the best one-to-one mapping of clusters to labels,
 * found with the Hungarian algorithm).
 */

interface Contingency {
  readonly n: number;
  readonly rows: number[]; // true-label sizes
  readonly cols: number[]; // cluster sizes
  readonly cells: Map<number, number>; // row * cols.length + col → count
  readonly table: number[][];
}

function contingency(truth: ArrayLike<number>, predicted: ArrayLike<number>): Contingency {
  if (truth.length !== predicted.length) throw new RangeError(`${truth.length} true labels for ${predicted.length} cluster labels`);
  const rowIds = new Map<number, number>();
  const colIds = new Map<number, number>();
  const id = (m: Map<number, number>, v: number) => {
    let i = m.get(v);
    if (i === undefined) m.set(v, (i = m.size));
    return i;
  };
  const pairs = Array.from({ length: truth.length }, (_, k) => [id(rowIds, truth[k]!), id(colIds, predicted[k]!)] as const);
  const table = Array.from({ length: rowIds.size }, () => new Array<number>(colIds.size).fill(0));
  for (const [r, c] of pairs) table[r]![c]!++;
  const cells = new Map<number, number>();
  table.forEach((row, r) => row.forEach((v, c) => v > 0 && cells.set(r * colIds.size + c, v)));
  return {
    n: truth.length,
    rows: table.map((row) => row.reduce((a, b) => a + b, 0)),
    cols: Array.from({ length: colIds.size }, (_, c) => table.reduce((a, row) => a + row[c]!, 0)),
    cells,
    table,
  };
}

function entropy(sizes: readonly number[], n: number): number {
  return -sizes.reduce((h, s) => (s > 0 ? h + (s / n) * Math.log(s / n) : h), 0);
}

function mutualInformation(c: Contingency): number {
  let mi = 0;
  for (const [key, nij] of c.cells) {
    const a = c.rows[Math.floor(key / c.cols.length)]!;
    const b = c.cols[key % c.cols.length]!;
    mi += (nij / c.n) * Math.log((c.n * nij) / (a * b));
  }
  return Math.max(0, mi);
}

/** log Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits). */
function logGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = g[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += g[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** E[MI] under random labelings with the same cluster sizes (Vinh et al. 2010), as scikit-learn. */
function expectedMutualInformation(c: Contingency): number {
  const N = c.n;
  const lgN = logGamma(N + 1);
  let emi = 0;
  for (const a of c.rows) {
    for (const b of c.cols) {
      const start = Math.max(1, a + b - N);
      const end = Math.min(a, b);
      const fixed = logGamma(a + 1) + logGamma(b + 1) + logGamma(N - a + 1) + logGamma(N - b + 1) - lgN;
      for (let nij = start; nij <= end; nij++) {
        const logP = fixed - logGamma(nij + 1) - logGamma(a - nij + 1) - logGamma(b - nij + 1) - logGamma(N - a - b + nij + 1);
        emi += (nij / N) * Math.log((N * nij) / (a * b)) * Math.exp(logP);
      }
    }
  }
  return emi;
}

/** Normalised mutual information, arithmetic mean of the two entropies (1 for identical partitions). */
export function normalizedMutualInformation(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const c = contingency(truth, predicted);
  const h = (entropy(c.rows, c.n) + entropy(c.cols, c.n)) / 2;
  if (c.rows.length === c.cols.length && (c.rows.length <= 1 || h === 0)) return 1;
  return h === 0 ? 0 : mutualInformation(c) / h;
}

/** Adjusted mutual information: 0 in expectation for random partitions, 1 for identical ones. */
export function adjustedMutualInformation(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const c = contingency(truth, predicted);
  if ((c.rows.length === 1 && c.cols.length === 1) || (c.rows.length === c.n && c.cols.length === c.n)) return 1;
  const mi = mutualInformation(c);
  const emi = expectedMutualInformation(c);
  const denominator = (entropy(c.rows, c.n) + entropy(c.cols, c.n)) / 2 - emi;
  const eps = Number.EPSILON;
  return (mi - emi) / (Math.abs(denominator) < eps ? (denominator < 0 ? -eps : eps) : denominator);
}

/** Share of samples whose cluster, mapped one-to-one onto labels to maximise agreement, is their label. */
export function clusterAccuracy(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const c = contingency(truth, predicted);
  const size = Math.max(c.rows.length, c.cols.length);
  // Hungarian algorithm (potentials, O(n³)) on cost = −count, padded to a square matrix
  const cost = (i: number, j: number) => -(c.table[i]?.[j] ?? 0);
  const u = new Float64Array(size + 1);
  const v = new Float64Array(size + 1);
  const p = new Int32Array(size + 1);
  const way = new Int32Array(size + 1);
  for (let i = 1; i <= size; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(size + 1).fill(Infinity);
    const used = new Uint8Array(size + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= size; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= size; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else {
          minv[j]! -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  let matched = 0;
  for (let j = 1; j <= size; j++) if (p[j]! > 0) matched += -cost(p[j]! - 1, j - 1);
  return matched / c.n;
}
