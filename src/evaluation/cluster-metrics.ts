/**
 * Clustering quality against true labels: NMI and AMI (arithmetic-mean normalisation, as
 * scikit-learn's defaults) and cluster accuracy (the best one-to-one mapping of clusters to labels,
 * found with the Hungarian algorithm).
 * A density clustering's noise label −1 counts as one more group, as scikit-learn scores DBSCAN's
 * labels_ (so a run that leaves many rows as noise pays for it in every measure here).
 */

interface Contingency {
  readonly n: number;
  readonly rows: number[]; // true-label sizes
  readonly cols: number[]; // cluster sizes
  readonly cells: Map<number, number>; // row * cols.length + col → count, nonzero cells only
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
  const r = Int32Array.from({ length: truth.length }, (_, k) => id(rowIds, truth[k]!));
  const c = Int32Array.from({ length: truth.length }, (_, k) => id(colIds, predicted[k]!));
  const rows = new Array<number>(rowIds.size).fill(0);
  const cols = new Array<number>(colIds.size).fill(0);
  const cells = new Map<number, number>();
  for (let k = 0; k < r.length; k++) {
    rows[r[k]!]!++;
    cols[c[k]!]!++;
    const key = r[k]! * colIds.size + c[k]!;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  return { n: truth.length, rows, cols, cells };
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

/** ln(i!) for i = 0..n, by cumulative sums (exact to rounding, no Lanczos series per term). */
function logFactorials(n: number): Float64Array {
  const t = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) t[i] = t[i - 1]! + Math.log(i);
  return t;
}

/** Distinct values of `sizes` with their multiplicities. */
function sizeCounts(sizes: readonly number[]): [number, number][] {
  const m = new Map<number, number>();
  for (const s of sizes) m.set(s, (m.get(s) ?? 0) + 1);
  return [...m];
}

/**
 * E[MI] under random labelings with the same cluster sizes (Vinh et al. 2010), as scikit-learn. The
 * term for a pair of sizes (a, b) depends only on the sizes, so each distinct pair is summed once and
 * weighted by its multiplicity (750 identities × 750 clusters have a few dozen distinct sizes each:
 * ~10³ pairs, not 5.6·10⁵). Along nij the hypergeometric probability is updated by its ratio, walking
 * out from the mode (where it cannot underflow) until it does.
 */
function expectedMutualInformation(c: Contingency): number {
  const N = c.n;
  const lf = logFactorials(N);
  const logN = Math.log(N);
  let emi = 0;
  for (const [a, countA] of sizeCounts(c.rows)) {
    for (const [b, countB] of sizeCounts(c.cols)) {
      const start = Math.max(1, a + b - N);
      const end = Math.min(a, b);
      if (start > end) continue;
      const rest = N - a - b; // P(n + 1) / P(n) = (a − n)(b − n) / ((n + 1)(rest + n + 1))
      const logAB = Math.log(a) + Math.log(b);
      const term = (n: number) => n * (logN + lf[n]! - lf[n - 1]! - logAB);
      const mode = Math.min(end, Math.max(start, Math.floor(((a + 1) * (b + 1)) / (N + 2))));
      const atMode = Math.exp(lf[a]! + lf[b]! + lf[N - a]! + lf[N - b]! - lf[N]! - lf[mode]! - lf[a - mode]! - lf[b - mode]! - lf[rest + mode]!);
      let sum = 0;
      for (let n = mode, p = atMode; n <= end && p > 0; n++) {
        sum += term(n) * p;
        p *= ((a - n) * (b - n)) / ((n + 1) * (rest + n + 1));
      }
      for (let n = mode - 1, p = atMode; n >= start && p > 0; n--) {
        p *= ((n + 1) * (rest + n + 1)) / ((a - n) * (b - n));
        sum += term(n) * p;
      }
      emi += (countA * countB * sum) / N;
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

/**
 * Share of samples whose cluster, mapped one-to-one onto labels to maximise agreement, is their label.
 * The contingency table is sparse (at most one nonzero per sample; 750 × 750 with ~13k nonzeros), so the
 * assignment is solved as a min-cost flow over its nonzero cells only: each label in turn is routed by
 * Dijkstra with potentials (successive shortest paths, the Hungarian algorithm's shortest-path form)
 * to a cluster or to "unmatched" at cost 0. O(labels · nonzeros · log) instead of the dense O(n³).
 */
export function clusterAccuracy(truth: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const c = contingency(truth, predicted);
  const R = c.rows.length;
  const C = c.cols.length;
  // rows' nonzero cells as CSR; cost of using cell (r, j) = −count
  const start = new Int32Array(R + 1);
  for (const key of c.cells.keys()) start[Math.floor(key / C) + 1]!++;
  for (let r = 0; r < R; r++) start[r + 1]! += start[r]!;
  const fill = start.slice(0, R);
  const colOf = new Int32Array(c.cells.size);
  const gain = new Float64Array(c.cells.size);
  for (const [key, count] of c.cells) {
    const at = fill[Math.floor(key / C)]!++;
    colOf[at] = key % C;
    gain[at] = count;
  }
  // nodes: rows 0..R−1, clusters R..R+C−1, the sink T = R+C ("unmatched" and every free cluster lead there)
  const T = R + C;
  const matchCol = new Int32Array(R).fill(-1);
  const matchRow = new Int32Array(C).fill(-1);
  const matchGain = new Float64Array(C);
  // feasible initial potentials: shortest distances in the empty flow's residual graph (a DAG)
  const potential = new Float64Array(T + 1);
  for (let k = 0; k < gain.length; k++) potential[R + colOf[k]!] = Math.min(potential[R + colOf[k]!]!, -gain[k]!);
  for (let j = 0; j < C; j++) potential[T] = Math.min(potential[T]!, potential[R + j]!);
  const dist = new Float64Array(T + 1);
  const prev = new Int32Array(T + 1);
  const done = new Uint8Array(T + 1);
  const heap = new MinHeap();
  for (let i = 0; i < R; i++) {
    dist.fill(Infinity);
    done.fill(0);
    dist[i] = 0;
    heap.push(0, i);
    const relax = (from: number, to: number, cost: number) => {
      const d = dist[from]! + cost + potential[from]! - potential[to]!;
      if (d < dist[to]!) {
        dist[to] = d;
        prev[to] = from;
        heap.push(d, to);
      }
    };
    while (heap.size > 0) {
      const node = heap.pop();
      if (done[node]) continue;
      done[node] = 1;
      if (node === T) break;
      if (node < R) {
        for (let k = start[node]!; k < start[node + 1]!; k++) if (colOf[k] !== matchCol[node]) relax(node, R + colOf[k]!, -gain[k]!);
        relax(node, T, 0);
      } else {
        const j = node - R;
        if (matchRow[j] === -1) relax(node, T, 0);
        else relax(node, matchRow[j]!, matchGain[j]!);
      }
    }
    heap.clear();
    const dT = dist[T]!;
    for (let v = 0; v <= T; v++) potential[v]! += Math.min(dist[v]!, dT);
    // augment along the path back from T: each cluster on it takes the row before it
    let node = prev[T]!;
    if (node < R) {
      matchCol[node] = -1;
      node = node === i ? -1 : prev[node]!;
    }
    while (node >= 0) {
      const j = node - R;
      const r = prev[node]!;
      matchRow[j] = r;
      matchCol[r] = j;
      for (let k = start[r]!; k < start[r + 1]!; k++) if (colOf[k] === j) matchGain[j] = gain[k]!;
      node = r === i ? -1 : prev[r]!;
    }
  }
  let matched = 0;
  for (let j = 0; j < C; j++) if (matchRow[j]! >= 0) matched += matchGain[j]!;
  return matched / c.n;
}

/** A binary min-heap of (key, node) pairs with lazy deletion (stale entries are skipped by the caller). */
class MinHeap {
  private keys: number[] = [];
  private nodes: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  clear(): void {
    this.keys.length = 0;
    this.nodes.length = 0;
  }
  push(key: number, node: number): void {
    const { keys, nodes } = this;
    let at = keys.length;
    keys.push(key);
    nodes.push(node);
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (keys[up]! <= key) break;
      keys[at] = keys[up]!;
      nodes[at] = nodes[up]!;
      at = up;
    }
    keys[at] = key;
    nodes[at] = node;
  }
  /** The node with the smallest key (the heap must not be empty). */
  pop(): number {
    const { keys, nodes } = this;
    const top = nodes[0]!;
    const lastKey = keys.pop()!;
    const lastNode = nodes.pop()!;
    const n = keys.length;
    if (n > 0) {
      let at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= n) break;
        if (child + 1 < n && keys[child + 1]! < keys[child]!) child++;
        if (keys[child]! >= lastKey) break;
        keys[at] = keys[child]!;
        nodes[at] = nodes[child]!;
        at = child;
      }
      keys[at] = lastKey;
      nodes[at] = lastNode;
    }
    return top;
  }
}
