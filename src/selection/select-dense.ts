/**
 * Selection for density clusters (Cluster-Contrast / SpCL): noise rows (−1) are dropped, every clustered
 * row keeps its cluster as pseudo-label. Optionally SpCL's reliability criterion (Ge et al. 2020, §3.3,
 * spcl_train_usl.py): with the labels of the same distances clustered tighter (eps − δ) and looser
 * (eps + δ), a row's independence R_indep = 1 − IoU(its cluster, its looser cluster) and compactness
 * R_comp = 1 − IoU(its cluster, its tighter cluster) (a noise row of those labellings is a singleton); a
 * cluster's scores are the minima over its rows. A cluster is kept when its R_indep is at most the
 * α-quantile of the clusters' R_indep (of clusters with more than one row; np.sort(…)[min(n − 1, round(n·α))]),
 * and within it the rows whose R_comp equals the cluster's minimum (the rows of its best-kept core).
 */
import { PulError } from '../core/errors.js';
import { roundHalfEven } from '../core/round-half-even.js';
import type { Selection } from './selection.js';

/** Options of selectDenseClusters. */
export interface DenseSelectionOptions {
  /**
   * SpCL's reliability criterion: α in (0, 1] (SpCL 0.9); `independenceThreshold` reuses a threshold
   * (SpCL fixes it at the first epoch) instead of the α-quantile of this clustering.
   */
  readonly reliability?: { readonly alpha: number; readonly independenceThreshold?: number };
}

/** A density clustering's labels: k clusters, −1 noise, and the tighter / looser labels when reliability is asked for. */
export interface DenseClusters {
  readonly k: number;
  readonly assignment: Int32Array;
  readonly tighter?: Int32Array;
  readonly looser?: Int32Array;
}

/** The kept rows, plus, with reliability, the independence threshold used (for later epochs). */
export type DenseSelection = Selection & { readonly independenceThreshold?: number };

/** 1 − IoU of each clustered row's cluster with its cluster in `other` (−1 there: a singleton); NaN for noise rows. */
export function intersectionOverUnionGap(assignment: Int32Array, k: number, other: Int32Array): Float64Array {
  const n = assignment.length;
  const size = new Float64Array(k);
  const otherSize = new Map<number, number>();
  const both = new Map<number, number>();
  const otherK = other.reduce((m, l) => Math.max(m, l + 1), 0);
  for (let i = 0; i < n; i++) {
    const c = assignment[i]!;
    const o = other[i]!;
    if (c >= 0) size[c]!++;
    if (o >= 0) otherSize.set(o, (otherSize.get(o) ?? 0) + 1);
    if (c >= 0 && o >= 0) {
      const key = c * otherK + o;
      both.set(key, (both.get(key) ?? 0) + 1);
    }
  }
  return Float64Array.from(assignment, (c, i) => {
    if (c < 0) return NaN;
    const o = other[i]!;
    const inter = o < 0 ? 1 : both.get(c * otherK + o)!;
    const union = size[c]! + (o < 0 ? 1 : otherSize.get(o)!) - inter;
    return 1 - inter / union;
  });
}

/**
 * The rows of a density clustering to train on, labelled with their cluster (ids kept, so they index
 * the clustering's centroids); clusters left without a row are listed in emptyClusters. λ does not
 * apply (0); similarity is 1, or with reliability the row's compactness IoU.
 * @example selectDenseClusters(clusterByDensity(features, { reliabilityDelta: 0.02 }), { reliability: { alpha: 0.9 } })
 */
export function selectDenseClusters(clustering: DenseClusters, options: DenseSelectionOptions = {}): DenseSelection {
  const { k, assignment } = clustering;
  const n = assignment.length;
  for (let i = 0; i < n; i++) {
    const c = assignment[i]!;
    if (!(Number.isInteger(c) && c >= -1 && c < k)) throw new PulError('clustering.invalid', `row ${i} is assigned to cluster ${c}, outside [0, ${k}) and not −1 (noise)`, { row: i });
  }
  const keep = new Uint8Array(n);
  const similarity = new Float64Array(n).fill(1);
  let threshold: number | undefined;
  const reliability = options.reliability;
  if (reliability === undefined) {
    for (let i = 0; i < n; i++) keep[i] = assignment[i]! >= 0 ? 1 : 0;
  } else {
    const { alpha } = reliability;
    if (!(alpha > 0 && alpha <= 1)) throw new PulError('option.outOfRange', `reliability α=${alpha} must lie in (0, 1]`, { option: 'reliability.alpha' });
    const { tighter, looser } = clustering;
    if (tighter === undefined || looser === undefined) throw new PulError('option.invalid', 'the reliability criterion needs the tighter and looser labels: cluster with reliabilityDelta set', { option: 'reliabilityDelta' });
    for (const [labels, name] of [[tighter, 'tighter'], [looser, 'looser']] as const) {
      if (labels.length !== n) throw new PulError('clustering.invalid', `the ${name} labels hold ${labels.length} rows, the clustering ${n}`);
    }
    const comp = intersectionOverUnionGap(assignment, k, tighter);
    const indep = intersectionOverUnionGap(assignment, k, looser);
    const clusterComp = new Float64Array(k).fill(Infinity);
    const clusterIndep = new Float64Array(k).fill(Infinity);
    const size = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const c = assignment[i]!;
      if (c < 0) continue;
      size[c]!++;
      clusterComp[c] = Math.min(clusterComp[c]!, comp[i]!);
      clusterIndep[c] = Math.min(clusterIndep[c]!, indep[i]!);
    }
    if (reliability.independenceThreshold !== undefined) threshold = reliability.independenceThreshold;
    else {
      const scores = Float64Array.from(Array.from(clusterIndep).filter((_, c) => size[c]! > 1)).sort();
      threshold = scores.length === 0 ? Infinity : scores[Math.min(scores.length - 1, roundHalfEven(scores.length * alpha))]!;
    }
    for (let i = 0; i < n; i++) {
      const c = assignment[i]!;
      if (c < 0) continue;
      keep[i] = clusterIndep[c]! <= threshold && comp[i]! <= clusterComp[c]! ? 1 : 0;
      similarity[i] = 1 - comp[i]!;
    }
  }
  const indices: number[] = [];
  const hit = new Uint8Array(k);
  for (let i = 0; i < n; i++) {
    if (keep[i] !== 1) continue;
    indices.push(i);
    hit[assignment[i]!] = 1;
  }
  const empty: number[] = [];
  for (let c = 0; c < k; c++) if (hit[c] === 0) empty.push(c);
  return {
    lambda: 0,
    indices: Int32Array.from(indices),
    labels: Int32Array.from(indices, (i) => assignment[i]!),
    similarity: Float32Array.from(indices, (i) => similarity[i]!),
    anchorRows: new Int32Array(k).fill(-1),
    emptyClusters: Int32Array.from(empty),
    ...(threshold !== undefined ? { independenceThreshold: threshold } : {}),
  };
}
