import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PulError, featureMatrix, selectReliable, selectionPrecision, type SelectionAnchor, type SelectionScope } from '../../src/index.js';
import { useBackend } from '../helpers/for-each-backend.js';

// Six unit rows at these angles (degrees); clusters {0,1} and {2,3,4,5} (row 2 deliberately in the far
// cluster so `own` and `any` keep different rows); centroids at 12° and 100°. Cosines worked by hand below.
const deg = (a: number) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)];
const features = featureMatrix(6, 2, Float32Array.from([0, 20, 50, 90, 100, 140].flatMap(deg)));
const clustering = { k: 2, assignment: Int32Array.of(0, 0, 1, 1, 1, 1), centroids: featureMatrix(2, 2, Float32Array.from([12, 100].flatMap(deg))) };

const pick = (anchor: SelectionAnchor, scope: SelectionScope, lambda: number) => {
  const s = selectReliable(features, clustering, { anchor, scope, lambda });
  return { rows: Array.from(s.indices), labels: Array.from(s.labels), empty: Array.from(s.emptyClusters), anchors: Array.from(s.anchorRows) };
};

test('each anchor × scope keeps the hand-computed rows with the hand-computed pseudo-labels', async () => {
  await useBackend('cpu');
  // centroid anchors (12°, 100°): row cosines to own: .978 .990 .643 .985 1 .766; row 2 to c0: cos 38° = .788
  assert.deepEqual(pick('centroid', 'own', 0.85), { rows: [0, 1, 3, 4], labels: [0, 0, 1, 1], empty: [], anchors: [-1, -1] });
  assert.deepEqual(pick('centroid', 'own', 0.7), { rows: [0, 1, 3, 4, 5], labels: [0, 0, 1, 1, 1], empty: [], anchors: [-1, -1] });
  // any (the authors' code): row 2 is kept for its cosine to c0 (.788 ≥ .7, to its own c1 only .643) yet
  // keeps its own k-means label 1, as their `kmeans.labels_[reliable]`
  assert.deepEqual(pick('centroid', 'any', 0.7), { rows: [0, 1, 2, 3, 4, 5], labels: [0, 0, 1, 1, 1, 1], empty: [], anchors: [-1, -1] });
  // nearest-sample anchors: row 1 (20°, 8° from c0) and row 4 (100°); row 0 → cos 20° = .940; row 2 → a0 cos 30° = .866
  assert.deepEqual(pick('nearest-sample', 'own', 0.85), { rows: [0, 1, 3, 4], labels: [0, 0, 1, 1], empty: [], anchors: [1, 4] });
  assert.deepEqual(pick('nearest-sample', 'any', 0.85), { rows: [0, 1, 2, 3, 4], labels: [0, 0, 1, 1, 1], empty: [], anchors: [1, 4] });
  // anchors matter: at λ = .95 row 0 (.978 to c0, .940 to row 1) stays only with the centroid anchor
  assert.deepEqual(pick('centroid', 'own', 0.95).rows, [0, 1, 3, 4]);
  assert.deepEqual(pick('nearest-sample', 'own', 0.95).rows, [1, 3, 4]);
});

test('a cluster left without a reliable sample is reported; too small a selection stops with selection.tooSmall', async () => {
  await useBackend('cpu');
  // λ = .995: only row 4 (cos 1 to c1); cluster 0 has none (best .990)
  assert.deepEqual(pick('centroid', 'own', 0.995), { rows: [4], labels: [1], empty: [0], anchors: [-1, -1] });
  assert.throws(
    () => selectReliable(features, clustering, { anchor: 'centroid', scope: 'own', lambda: 0.995, minSelected: 2 }),
    (e: unknown) => e instanceof PulError && e.code === 'selection.tooSmall' && /only 1 of 6 samples are reliable at λ=0.995.*at least 2/.test(e.message),
  );
});

test('the threshold is inclusive: cosine exactly λ is kept (≥, where the authors wrote >)', async () => {
  await useBackend('cpu');
  const x = featureMatrix(3, 2, Float32Array.of(1, 0, 0, 1, 0, 2));
  const c = { k: 2, assignment: Int32Array.of(0, 1, 1), centroids: featureMatrix(2, 2, Float32Array.of(3, 0, 0, 1)) };
  const s = selectReliable(x, c, { anchor: 'centroid', scope: 'own', lambda: 1 });
  assert.deepEqual(Array.from(s.indices), [0, 1, 2]);
  const none = selectReliable(x, c, { anchor: 'centroid', scope: 'any', lambda: -1 });
  assert.equal(none.indices.length, 3);
});

test('noise rows (−1, a density clustering) are never selected; ids below −1 are still errors', async () => {
  await useBackend('cpu');
  const noisy = { ...clustering, assignment: Int32Array.of(0, -1, 1, 1, -1, 1) };
  // λ = .7 keeps every row but 2 under centroid/own (above); the noise rows 1 and 4 go too
  assert.deepEqual(Array.from(selectReliable(features, noisy, { anchor: 'centroid', scope: 'own', lambda: 0.7 }).indices), [0, 3, 5]);
  assert.deepEqual(Array.from(selectReliable(features, noisy, { anchor: 'centroid', scope: 'any', lambda: 0.7 }).indices), [0, 2, 3, 5]);
  assert.throws(() => selectReliable(features, { ...clustering, assignment: Int32Array.of(0, -2, 1, 1, 1, 1) }, { anchor: 'centroid', scope: 'own', lambda: 0.7 }), /row 1 is assigned to cluster -2, outside \[0, 2\) and not −1/);
});

test('selection precision: share of selected rows whose pid is the majority pid of their pseudo-cluster', () => {
  const sel = { indices: Int32Array.of(0, 1, 2, 3, 4), labels: Int32Array.of(0, 0, 0, 1, 1) };
  assert.equal(selectionPrecision(sel, [5, 5, 7, 9, 9, 9]), 4 / 5);
  assert.equal(selectionPrecision(sel, [5, 6, 7, 9, 8, 9]), 2 / 5); // ties: one member counts per cluster
  assert.ok(Number.isNaN(selectionPrecision({ indices: new Int32Array(0), labels: new Int32Array(0) }, [])));
});

test('bad input: λ outside [-1, 1], dimension or row mismatch, NaN rows, cluster ids out of range', async () => {
  await useBackend('cpu');
  const code = (fn: () => unknown, c: string, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof PulError && e.code === c && re.test(e.message));
  const rule = { anchor: 'centroid', scope: 'own', lambda: 0.5 } as const;
  code(() => selectReliable(features, clustering, { ...rule, lambda: 1.01 }), 'option.outOfRange', /λ=1.01 is outside \[-1, 1\]; λ is a cosine/);
  code(() => selectReliable(features, clustering, { ...rule, lambda: NaN }), 'option.outOfRange', /λ=NaN/);
  code(() => selectReliable(features, { ...clustering, centroids: featureMatrix(2, 3) }, rule, 'feats/'), 'features.mismatch', /feats\/ have dimension 2 but the centroids have 3/);
  code(() => selectReliable(featureMatrix(2, 2, Float32Array.of(1, 0, 0, 1)), clustering, rule), 'features.mismatch', /2 rows but the clustering assigns 6/);
  const nan = featureMatrix(6, 2, Float32Array.from(features.data).fill(NaN, 6, 7));
  code(() => selectReliable(nan, clustering, rule), 'features.malformed', /row 3 \(0-based\) holds NaN/);
  code(() => selectReliable(features, { ...clustering, assignment: Int32Array.of(0, 0, 2, 1, 1, 1) }, rule), 'clustering.invalid', /row 2 is assigned to cluster 2, outside \[0, 2\)/);
});
