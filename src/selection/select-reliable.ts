/**
 * PUL's reliable-sample selection (Fan et al. 2018, eq. 5): cosine similarity, on L2-normalised
 * embeddings, between each sample and the cluster anchors; a sample is kept when it is ≥ λ.
 *
 * ≥ rather than the authors' `>`: λ reads as "at least this similar", the growing schedule may reach
 * λ = 1 where `>` would keep nothing even for exact duplicates of an anchor sample; on real-valued
 * embeddings the two differ only on exact ties (measure zero), which hand-made tests pin.
 *
 * Pseudo-labels: under either scope a kept sample is labelled with its own k-means cluster, as the
 * authors' code (`labels = kmeans.labels_[reliable]`), even when the anchor it is kept for is another
 * cluster's. Labelling by the best-matched anchor instead was measured on the demo (seed 1, 4 rounds):
 * final mAP 0.5169 against 0.5243 for the code's rule, so it is not offered.
 */
import { PulError } from '../core/errors.js';
import { assertFinite, l2Normalize, type FeatureMatrix } from '../features/feature-matrix.js';
import type { Clustering } from '../clustering/clustering.js';
import { blockRows, transposedPoints } from '../clustering/squared-distances.js';
import { assertLambda } from './lambda-schedule.js';
import type { Selection, SelectionRule } from './selection.js';
import { SELECTION_ANCHORS, SELECTION_SCOPES } from './selection.js';

/**
 * Selects the reliable samples of `features` under `clustering`; noise rows (−1) are never selected.
 * @example
 * const sel = selectReliable(features, clustering, { anchor: 'nearest-sample', scope: 'any', lambda: 0.85 });
 * sel.indices; // rows kept, sel.labels their pseudo-labels
 */
export function selectReliable(features: FeatureMatrix, clustering: Pick<Clustering, 'k' | 'assignment' | 'centroids'>, rule: SelectionRule, source = 'features'): Selection {
  validate(features, clustering, rule, source);
  const { k } = clustering;
  const n = features.rows;
  const d = features.dim;
  const x = l2Normalize(features);
  const anchorRows = new Int32Array(k).fill(-1);
  let anchors: FeatureMatrix;
  if (rule.anchor === 'centroid') anchors = l2Normalize(clustering.centroids);
  else {
    // the authors' code: the real sample nearest each centroid (Euclidean, over all samples)
    nearestRows(features, clustering.centroids, anchorRows);
    const data = new Float32Array(k * d);
    for (let j = 0; j < k; j++) data.set(x.data.subarray(anchorRows[j]! * d, (anchorRows[j]! + 1) * d), j * d);
    anchors = { rows: k, dim: d, data };
  }
  const at = transposedPoints(anchors.data, k, d, new Float64Array(k));
  const keptRows: number[] = [];
  const keptLabels: number[] = [];
  const keptSim: number[] = [];
  try {
    const per = blockRows(k);
    for (let start = 0; start < n; start += per) {
      const m = Math.min(per, n - start);
      const cos = at.dot(x.data.subarray(start * d, (start + m) * d), m);
      for (let r = 0; r < m; r++) {
        const i = start + r;
        // a density clustering's noise row (−1) has no pseudo-label to train on
        if (clustering.assignment[i]! < 0) continue;
        let label: number;
        let sim: number;
        if (rule.scope === 'own') {
          label = clustering.assignment[i]!;
          sim = cos[r * k + label]!;
        } else {
          // the authors' code: reliable when close to any anchor, labelled with its own k-means cluster
          label = clustering.assignment[i]!;
          sim = -Infinity;
          for (let j = 0; j < k; j++) sim = Math.max(sim, cos[r * k + j]!);
        }
        if (sim >= rule.lambda) {
          keptRows.push(i);
          keptLabels.push(label);
          keptSim.push(sim);
        }
      }
    }
  } finally {
    at.dispose();
  }
  const hit = new Uint8Array(k);
  for (const l of keptLabels) hit[l] = 1;
  const empty: number[] = [];
  for (let j = 0; j < k; j++) if (!hit[j]) empty.push(j);
  const minSelected = rule.minSelected ?? 1;
  if (keptRows.length < minSelected) {
    throw new PulError(
      'selection.tooSmall',
      `only ${keptRows.length} of ${n} samples are reliable at λ=${rule.lambda} (anchor ${rule.anchor}, scope ${rule.scope}); at least ${minSelected} are needed to train — lower λ or check the features`,
      { option: 'selection.lambda' },
    );
  }
  return {
    lambda: rule.lambda,
    indices: Int32Array.from(keptRows),
    labels: Int32Array.from(keptLabels),
    similarity: Float32Array.from(keptSim),
    anchorRows,
    emptyClusters: Int32Array.from(empty),
  };
}

function validate(features: FeatureMatrix, clustering: Pick<Clustering, 'k' | 'assignment' | 'centroids'>, rule: SelectionRule, source: string): void {
  if (!SELECTION_ANCHORS.includes(rule.anchor)) throw new PulError('option.invalid', `anchor '${String(rule.anchor)}' is not one of ${SELECTION_ANCHORS.join(', ')} `, { option: 'selection.anchor' });
  if (!SELECTION_SCOPES.includes(rule.scope)) throw new PulError('option.invalid', `scope '${String(rule.scope)}' is not one of ${SELECTION_SCOPES.join(', ')} `, { option: 'selection.scope' });
  assertLambda(rule.lambda);
  const min = rule.minSelected ?? 1;
  if (!Number.isInteger(min) || min < 0) throw new PulError('option.outOfRange', `minimum selection ${min} must be a whole number ≥ 0`, { option: 'selection.minSelected' });
  const c = clustering.centroids;
  if (c.dim !== features.dim) throw new PulError('features.mismatch', `${source} have dimension ${features.dim} but the centroids have ${c.dim}`, { file: source });
  if (c.rows !== clustering.k) throw new PulError('clustering.invalid', `clustering says K=${clustering.k} but holds ${c.rows} centroids`, { file: source });
  if (clustering.assignment.length !== features.rows) throw new PulError('features.mismatch', `${source} have ${features.rows} rows but the clustering assigns ${clustering.assignment.length}`, { file: source });
  for (let i = 0; i < clustering.assignment.length; i++) {
    const a = clustering.assignment[i]!;
    if (!(a >= -1 && a < clustering.k)) throw new PulError('clustering.invalid', `row ${i} is assigned to cluster ${a}, outside [0, ${clustering.k}) and not −1 (noise)`, { file: source, row: i });
  }
  for (const [m, name] of [[features, source], [c, 'centroids']] as const) assertFinite(m, name, 'selection needs finite values');
}

/** For each centroid, the row of `x` nearest to it (squared Euclidean; ties to the lower row). */
function nearestRows(x: FeatureMatrix, centroids: FeatureMatrix, out: Int32Array): void {
  const k = centroids.rows;
  const d = x.dim;
  const best = new Float64Array(k).fill(Infinity);
  const norms = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += x.data[i * d + t]! * x.data[i * d + t]!;
    norms[i] = s;
  }
  const cn = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let t = 0; t < d; t++) s += centroids.data[j * d + t]! * centroids.data[j * d + t]!;
    cn[j] = s;
  }
  const ct = transposedPoints(centroids.data, k, d, cn);
  try {
    const per = blockRows(k);
    for (let start = 0; start < x.rows; start += per) {
      const m = Math.min(per, x.rows - start);
      const dots = ct.dot(x.data.subarray(start * d, (start + m) * d), m);
      for (let r = 0; r < m; r++) {
        const i = start + r;
        for (let j = 0; j < k; j++) {
          const v = norms[i]! + cn[j]! - 2 * dots[r * k + j]!;
          if (v < best[j]!) {
            best[j] = v;
            out[j] = i;
          }
        }
      }
    }
  } finally {
    ct.dispose();
  }
}
