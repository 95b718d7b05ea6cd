import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PulError } from '../../src/index.js';
import { intersectionOverUnionGap, selectDenseClusters } from '../../src/selection/select-dense.js';

// clusters {0,1,2,3} and {4,5,6}, row 7 noise; tighter: cores {0,1} and {4,5}, the rest noise; looser: one cluster of 0–6
const clusters = {
  k: 2,
  assignment: Int32Array.of(0, 0, 0, 0, 1, 1, 1, -1),
  tighter: Int32Array.of(0, 0, -1, -1, 1, 1, -1, -1),
  looser: Int32Array.of(0, 0, 0, 0, 0, 0, 0, -1),
};

test('noise rows are dropped, every clustered row keeps its cluster id', () => {
  const s = selectDenseClusters({ k: 3, assignment: Int32Array.of(2, -1, 0, 0, -1, 2) });
  assert.deepEqual(Array.from(s.indices), [0, 2, 3, 5]);
  assert.deepEqual(Array.from(s.labels), [2, 0, 0, 2]);
  assert.deepEqual(Array.from(s.emptyClusters), [1]);
  assert.equal(s.independenceThreshold, undefined);
});

test('SpCL reliability: hand-computed IoU gaps, α-quantile of independence (numpy rounding), most compact rows', () => {
  // compactness: {0..3} vs tighter {0,1}: IoU 2/4; rows 2, 3 are tighter noise (singletons): IoU 1/4
  const comp = Array.from(intersectionOverUnionGap(clusters.assignment, 2, clusters.tighter));
  assert.deepEqual(comp.slice(0, 7).map((v) => v.toFixed(4)), ['0.5000', '0.5000', '0.7500', '0.7500', '0.3333', '0.3333', '0.6667']);
  assert.ok(Number.isNaN(comp[7]));
  // independence: {0..3} in {0..6}: 1 − 4/7; {4,5,6}: 1 − 3/7
  const indep = intersectionOverUnionGap(clusters.assignment, 2, clusters.looser);
  assert.ok(Math.abs(indep[0]! - 3 / 7) < 1e-12 && Math.abs(indep[4]! - 4 / 7) < 1e-12);
  // scores [3/7, 4/7]: α .9 → index min(1, round(1.8)) = 1 → both clusters pass; rows of minimal R_comp only
  const all = selectDenseClusters(clusters, { reliability: { alpha: 0.9 } });
  assert.deepEqual(Array.from(all.indices), [0, 1, 4, 5]);
  assert.deepEqual(Array.from(all.labels), [0, 0, 1, 1]);
  assert.ok(Math.abs(all.independenceThreshold! - 4 / 7) < 1e-12);
  assert.deepEqual(Array.from(all.similarity).map((v) => v.toFixed(4)), ['0.5000', '0.5000', '0.6667', '0.6667']);
  // α .25 → round(0.5) = 0 (half to even; Math.round would give 1) → threshold 3/7: cluster 1 goes
  const strict = selectDenseClusters(clusters, { reliability: { alpha: 0.25 } });
  assert.deepEqual(Array.from(strict.indices), [0, 1]);
  assert.deepEqual(Array.from(strict.emptyClusters), [1]);
  // a threshold carried over from an earlier epoch wins over α
  assert.deepEqual(Array.from(selectDenseClusters(clusters, { reliability: { alpha: 0.9, independenceThreshold: 0.4 } }).indices), []);
});

test('bad input: α outside (0, 1], reliability without tighter/looser labels, ids below −1', () => {
  const pul = (fn: () => unknown, code: string, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof PulError && e.code === code && re.test(e.message));
  pul(() => selectDenseClusters(clusters, { reliability: { alpha: 0 } }), 'option.outOfRange', /α=0 must lie in \(0, 1\]/);
  pul(() => selectDenseClusters(clusters, { reliability: { alpha: 1.5 } }), 'option.outOfRange', /α=1.5/);
  pul(() => selectDenseClusters({ k: 2, assignment: clusters.assignment }, { reliability: { alpha: 0.9 } }), 'option.invalid', /needs the tighter and looser labels/);
  pul(() => selectDenseClusters({ k: 2, assignment: Int32Array.of(0, -3) }), 'clustering.invalid', /row 1 is assigned to cluster -3/);
});
