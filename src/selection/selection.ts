/**
 * Reliable-sample selection (Fan et al. 2018, §3.2): which embeddings are close enough to a cluster's
 * anchor to train on, and their pseudo-labels. The rule is explicit so a run says which variant it ran.
 */

/**
 * What a sample is compared with: the k-means `centroid` (the paper) or the real sample nearest each
 * centroid, `nearest-sample` (the authors' code, PUL/unsupervised.py).
 */
export type SelectionAnchor = 'centroid' | 'nearest-sample';

/**
 * Whether a sample must be close to its `own` cluster's anchor (the paper) or to `any` anchor (the
 * authors' code); either way its pseudo-label is its own k-means cluster.
 */
export type SelectionScope = 'own' | 'any';

/** The selection anchors, for choices and schemas. */
export const SELECTION_ANCHORS: readonly SelectionAnchor[] = ['centroid', 'nearest-sample'];
/** The selection scopes, for choices and schemas. */
export const SELECTION_SCOPES: readonly SelectionScope[] = ['own', 'any'];

/** How reliable samples are chosen (config selection.*): anchor, scope, λ and the minimum kept. */
export interface SelectionRule {
  readonly anchor: SelectionAnchor;
  readonly scope: SelectionScope;
  /** Cosine threshold λ in [−1, 1]; a sample is kept when its cosine is ≥ λ. */
  readonly lambda: number;
  /** Fewer selected samples than this throws `selection.tooSmall` (default 1). */
  readonly minSelected?: number;
}

/** The kept samples, in increasing row order, with their pseudo-labels (cluster ids in [0, K)). */
export interface Selection {
  readonly lambda: number;
  readonly indices: Int32Array;
  readonly labels: Int32Array;
  /** Cosine of each kept sample to the anchor it was kept for (scope `any`: its best-matched anchor). */
  readonly similarity: Float32Array;
  /** Row of each cluster's anchor sample (anchor `nearest-sample`), else −1 for every cluster. */
  readonly anchorRows: Int32Array;
  /** Clusters with no reliable sample (no kept sample carries their label). */
  readonly emptyClusters: Int32Array;
}
