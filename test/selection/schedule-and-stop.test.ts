import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUTHORS_LAMBDA, PulError, adjustedRandIndex, lambdaAt, selectionChange, shouldStop } from '../../src/index.js';

test('λ schedules: constant (authors: 0.85) and growing start + step·round capped at max', () => {
  assert.deepEqual([0, 1, 24].map((r) => lambdaAt(AUTHORS_LAMBDA, r)), [0.85, 0.85, 0.85]);
  const growing = { schedule: 'growing', start: 0.6, step: 0.05, max: 0.8 } as const;
  const got = [0, 1, 2, 3, 4, 5, 9].map((r) => lambdaAt(growing, r));
  [0.6, 0.65, 0.7, 0.75, 0.8, 0.8, 0.8].forEach((v, i) => assert.ok(Math.abs(got[i]! - v) < 1e-12, `round ${i}: ${got[i]}`));
  assert.equal(lambdaAt({ schedule: 'growing', start: 0.9, step: -0.1, max: 0.75 }, 3), 0.75);
  assert.throws(() => lambdaAt({ schedule: 'growing', start: 1.2, step: 0.1, max: 1 }, 0), (e: unknown) => e instanceof PulError && e.where?.option === 'selection.lambda.start');
  assert.throws(() => lambdaAt({ schedule: 'constant', value: -1.5 }, 0), (e: unknown) => e instanceof PulError && /λ=-1.5 is outside/.test(e.message));
  assert.throws(() => lambdaAt(AUTHORS_LAMBDA, -1), PulError);
});

test('adjusted Rand index: hand-computed pair counts, blind to renaming', () => {
  const near = (got: number, want: number) => assert.ok(Math.abs(got - want) < 1e-12, `${got} ≠ ${want}`);
  near(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0]), 1);
  // pairs: index 1, rows 2, cols 1 of 6 → expected 1/3, max 3/2 → (2/3) / (7/6)
  near(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2]), 4 / 7);
  // index 0, rows 2, cols 2 → expected 2/3, max 2 → −(2/3) / (4/3)
  near(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]), -0.5);
  near(adjustedRandIndex([3, 3, 3], [1, 1, 1]), 1); // both all-in-one
  near(adjustedRandIndex([0, 1, 2], [9, 8, 7]), 1); // both all-singletons
  near(adjustedRandIndex([4], [2]), 1);
  assert.throws(() => adjustedRandIndex([0, 1], [0]), PulError);
});

test('selection change: max(share entering or leaving, 1 − max(ARI, 0) of the labels on the samples kept)', () => {
  // same set, clusters renamed: no change
  assert.deepEqual(selectionChange({ indices: [0, 1, 2, 3], labels: [0, 0, 1, 1] }, { indices: [0, 1, 2, 3], labels: [5, 5, 2, 2] }), { entered: 0, left: 0, kept: 4, ari: 1, change: 0 });
  // same set, relabelled (what the index-set rule missed): ARI −0.5 counts as 0 → change 1
  const relabelled = selectionChange({ indices: [0, 1, 2, 3], labels: [0, 0, 1, 1] }, { indices: [0, 1, 2, 3], labels: [0, 1, 0, 1] });
  assert.deepEqual([relabelled.entered, relabelled.left, relabelled.kept], [0, 0, 4]);
  assert.ok(Math.abs(relabelled.ari + 0.5) < 1e-12 && relabelled.change === 1, JSON.stringify(relabelled));
  // row 0 leaves, row 4 enters, the kept rows keep one cluster: 2 of the 5 in the union
  assert.deepEqual(selectionChange({ indices: [0, 1, 2, 3], labels: [1, 0, 0, 0] }, { indices: [1, 2, 3, 4], labels: [6, 6, 6, 2] }), { entered: 1, left: 1, kept: 3, ari: 1, change: 0.4 });
  // order of the rows does not matter; kept rows [1, 2, 3]: labels (0,0,1) then (4,4,4) → ARI 0
  const c = selectionChange({ indices: [3, 1, 2], labels: [1, 0, 0] }, { indices: [1, 2, 3], labels: [4, 4, 4] });
  assert.deepEqual([c.kept, c.ari, c.change], [3, 0, 1]);
  assert.deepEqual(selectionChange({ indices: [], labels: [] }, { indices: [], labels: [] }), { entered: 0, left: 0, kept: 0, ari: 1, change: 0 });
  assert.equal(selectionChange({ indices: [], labels: [] }, { indices: [7], labels: [0] }).change, 1);
  assert.throws(() => selectionChange({ indices: [1, 2], labels: [0] }, { indices: [], labels: [] }), PulError);
});

test('stop rule: change < minChange (strict) once minRounds are trained, else maxRounds', () => {
  const changed = (change: number) => ({ entered: 0, left: 0, kept: 10, ari: 1 - change, change });
  assert.deepEqual(shouldStop({ maxRounds: 25 }, 0, null), { stop: false, reason: null });
  assert.deepEqual(shouldStop({ maxRounds: 25 }, 1, changed(0.01)), { stop: false, reason: null }); // 1 % is not < 1 %
  assert.deepEqual(shouldStop({ maxRounds: 25 }, 1, changed(0.005)), { stop: true, reason: 'stable' });
  assert.deepEqual(shouldStop({ maxRounds: 25, minChange: 0.1 }, 1, changed(0.05)), { stop: true, reason: 'stable' });
  assert.deepEqual(shouldStop({ maxRounds: 25, minChange: 0 }, 4, changed(0)), { stop: false, reason: null }); // 0: never settles
  assert.deepEqual(shouldStop({ maxRounds: 25, minRounds: 3 }, 2, changed(0)), { stop: false, reason: null });
  assert.deepEqual(shouldStop({ maxRounds: 25, minRounds: 3 }, 3, changed(0)), { stop: true, reason: 'stable' });
  assert.deepEqual(shouldStop({ maxRounds: 3 }, 3, changed(0.5)), { stop: true, reason: 'maxRounds' });
  assert.throws(() => shouldStop({ maxRounds: 0 }, 1, null), (e: unknown) => e instanceof PulError && e.where?.option === 'stop.maxRounds');
  assert.throws(() => shouldStop({ maxRounds: 2, minRounds: 0 }, 1, null), (e: unknown) => e instanceof PulError && e.where?.option === 'stop.minRounds');
  assert.throws(() => shouldStop({ maxRounds: 2, minChange: -1 }, 1, null), (e: unknown) => e instanceof PulError && e.where?.option === 'stop.minChange');
});
