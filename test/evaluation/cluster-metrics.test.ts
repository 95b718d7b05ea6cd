import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng, adjustedMutualInformation, clusterAccuracy, normalizedMutualInformation } from '../../src/index.js';

// Reference values from scikit-learn 1.2.1 (normalized_mutual_info_score, adjusted_mutual_info_score).
const CASES: [number[], number[], number, number][] = [
  [[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2], 0.5158037429793889, 0.2987924581708901],
  [[0, 0, 1, 1, 2, 2, 2, 3], [1, 1, 0, 0, 0, 2, 2, 2], 0.7020168761809934, 0.4617117168810956],
  [[0, 1, 2, 0, 1, 2, 0, 1, 2, 0], [0, 0, 0, 1, 1, 1, 2, 2, 2, 2], 0.012714017928048455, -0.3511857745978149],
  // DBSCAN noise (−1) scored as sklearn scores dbscan.labels_: one more group
  [[0, 0, 0, 1, 1, 1, 2, 2, 2, 2], [0, 0, -1, 1, 1, -1, -1, 2, 2, 2], 0.6185727866539659, 0.40577818863462284],
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

/** AMI straight from its definition: every (label, cluster) pair, every nij, log-factorials per term. */
function referenceAmi(truth: number[], predicted: number[]): number {
  const n = truth.length;
  const lf = (k: number) => {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  };
  const counts = <T>(xs: T[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());
  const [rowSize, colSize] = [counts(truth), counts(predicted)];
  const h = (m: Map<number, number>) => -[...m.values()].reduce((acc, x) => acc + (x / n) * Math.log(x / n), 0);
  let mi = 0;
  for (const [key, nij] of counts(truth.map((t, k) => `${t}|${predicted[k]}`))) {
    const [t, p] = key.split('|').map(Number) as [number, number];
    mi += (nij / n) * Math.log((n * nij) / (rowSize.get(t)! * colSize.get(p)!));
  }
  let emi = 0;
  for (const a of rowSize.values()) {
    for (const b of colSize.values()) {
      for (let nij = Math.max(1, a + b - n); nij <= Math.min(a, b); nij++) {
        const logP = lf(a) + lf(b) + lf(n - a) + lf(n - b) - lf(n) - lf(nij) - lf(a - nij) - lf(b - nij) - lf(n - a - b + nij);
        emi += (nij / n) * Math.log((n * nij) / (a * b)) * Math.exp(logP);
      }
    }
  }
  return (mi - emi) / ((h(rowSize) + h(colSize)) / 2 - emi);
}

test('AMI agrees with the definition of E[MI] on many small clusters and on a few large ones', () => {
  const rng = new Rng(5);
  // 40 labels × 50 clusters of a few samples each (sizes repeat, as in re-ID); 2 × 3 clusters of ~150
  const many = Array.from({ length: 400 }, () => rng.int(40));
  const guess = many.map((t) => (rng.next() < 0.6 ? t : 40 + rng.int(10)));
  const two = Array.from({ length: 300 }, () => rng.int(2));
  const three = two.map((t) => (rng.next() < 0.7 ? t : 2));
  for (const [truth, predicted] of [
    [many, guess],
    [two, three],
  ] as const) {
    const expected = referenceAmi(truth, predicted);
    assert.ok(Math.abs(adjustedMutualInformation(truth, predicted) - expected) < 1e-9, `AMI ${adjustedMutualInformation(truth, predicted)} vs ${expected}`);
  }
});

/** The best one-to-one mapping by trying every injective map of the smaller side into the larger. */
function bruteForceAccuracy(truth: number[], predicted: number[]): number {
  const labels = [...new Set(truth)];
  const clusters = [...new Set(predicted)];
  const count = (t: number, p: number) => truth.filter((x, k) => x === t && predicted[k] === p).length;
  const best = (i: number, free: number[]): number =>
    i === labels.length ? 0 : Math.max(best(i + 1, free), ...free.map((p) => count(labels[i]!, p) + best(i + 1, free.filter((q) => q !== p))));
  return best(0, clusters) / truth.length;
}

test('cluster accuracy equals the exhaustive best mapping on random small partitions', () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 200; trial++) {
    const labels = 1 + rng.int(5);
    const clusters = 1 + rng.int(6);
    const truth = Array.from({ length: 5 + rng.int(25) }, () => rng.int(labels));
    const predicted = truth.map((t) => (rng.next() < 0.5 ? t % clusters : rng.int(clusters)));
    assert.equal(clusterAccuracy(truth, predicted), bruteForceAccuracy(truth, predicted), `trial ${trial}: ${truth.join(',')} / ${predicted.join(',')}`);
  }
});
