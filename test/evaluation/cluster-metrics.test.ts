import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adjustedMutualInformation, clusterAccuracy, normalizedMutualInformation } from '../../src/index.js';

// Reference values from scikit-learn 1.2.1 (normalized_mutual_info_score, adjusted_mutual_info_score).
const CASES: [number[], number[], number, number][] = [
  [[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2], 0.5158037429793889, 0.2987924581708901],
  [[0, 0, 1, 1, 2, 2, 2, 3], [1, 1, 0, 0, 0, 2, 2, 2], 0.7020168761809934, 0.4617117168810956],
  [[0, 1, 2, 0, 1, 2, 0, 1, 2, 0], [0, 0, 0, 1, 1, 1, 2, 2, 2, 2], 0.012714017928048455, -0.3511857745978149],
];

test('NMI and AMI agree with scikit-learn', () => {
  for (const [truth, predicted, nmi, ami] of CASES) {
    assert.ok(Math.abs(normalizedMutualInformation(truth, predicted) - nmi) < 1e-12, `NMI ${normalizedMutualInformation(truth, predicted)} vs ${nmi}`);
    assert.ok(Math.abs(adjustedMutualInformation(truth, predicted) - ami) < 1e-9, `AMI ${adjustedMutualInformation(truth, predicted)} vs ${ami}`);
  }
});

test('identical partitions under renaming score 1 on every measure', () => {
  const truth = [3, 3, 7, 7, 7, 9];
  const renamed = [1, 1, 0, 0, 0, 5];
  assert.equal(normalizedMutualInformation(truth, renamed), 1);
  assert.ok(Math.abs(adjustedMutualInformation(truth, renamed) - 1) < 1e-12);
  assert.equal(clusterAccuracy(truth, renamed), 1);
});

test('cluster accuracy finds the best one-to-one mapping, by hand', () => {
  // clusters: A = {0,0,1}, B = {1,1,2}, C = {2}; best map A→0, B→1, C→2: 2 + 2 + 1 = 5 of 7
  assert.equal(clusterAccuracy([0, 0, 1, 1, 1, 2, 2], [5, 5, 5, 6, 6, 6, 7]), 5 / 7);
  // more clusters than labels: the extra cluster maps to nothing
  assert.equal(clusterAccuracy([0, 0, 1, 1], [0, 1, 2, 3]), 2 / 4);
});
