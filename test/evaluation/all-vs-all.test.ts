import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PulError, Rng, allVsAllMetrics, evaluateAllVsAll, evaluateCodesAllVsAll, featureMatrix, l2Normalize, nativeHammingPaths, packSigns, selectBackend } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';

// Five points on a line: a0=0 (class 0), a1=1 (1), a2=3 (0), a3=10 (1), a4=11 (1).
// Neighbours of each, nearest first, with the ranks of its other same-class points:
//   a0: a1 a2* a3 a4        → first hit at 2, AP = 1/2
//   a1: a0 a2 a3* a4*       → first hit at 3, AP = (1/3 + 2/4) / 2 = 5/12
//   a2: a1 a0* a3 a4        → first hit at 2, AP = 1/2
//   a3: a4* a2 a1* a0       → first hit at 1, AP = (1 + 2/3) / 2 = 5/6
//   a4: a3* a2 a1* a0       → first hit at 1, AP = 5/6
// Recall@1 = 2/5, Recall@2 = 4/5, Recall@4 = 1; mAP = (1/2 + 5/12 + 1/2 + 5/6 + 5/6) / 5 = 37/60.
const line = featureMatrix(5, 1, Float32Array.of(0, 1, 3, 10, 11));
const lineLabels = Int32Array.of(0, 1, 0, 1, 1);

test('all-vs-all: Recall@K and mAP of a hand-computed case (leave-one-out: the query never retrieves itself)', async () => {
  await selectBackend('cpu');
  const r = evaluateAllVsAll(line, lineLabels, { metric: 'euclidean', ks: [1, 2, 4] });
  assert.deepEqual(r.recall, [0.4, 0.8, 1]);
  assertClose([r.mAP], [37 / 60], { atol: 1e-12 });
  assert.deepEqual([r.images, r.classes, r.validQueries, r.skippedQueries], [5, 2, 5, 0]);
  // blocks of one query row give the same figures
  assert.deepEqual(evaluateAllVsAll(line, lineLabels, { metric: 'euclidean', ks: [1, 2, 4], budgetFloats: 5 }), r);
});

test('all-vs-all: cosine ranks by angle; an image alone in its class is skipped as a query but stays a negative', async () => {
  await selectBackend('cpu');
  // a0 (class 0) and a1 (class 0) along x at different lengths; a2 (class 1) at 30° from x, a3 (class 1) along y;
  // a4 (class 2, alone) at 10° from x: the nearest neighbour of a0 and a1 under cosine
  const deg = (d: number) => [Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180)];
  const x = featureMatrix(5, 2, Float32Array.from([1, 0, 5, 0, ...deg(30), 0, 3, ...deg(10)]));
  const r = evaluateAllVsAll(x, Int32Array.of(0, 0, 1, 1, 2), { ks: [1, 2] });
  // a0, a1: the other one at 0° (rank 1) → AP 1. a2: a4 (20°), a0/a1 (30°), a3 (60°) → rank 4, AP 1/4.
  // a3: a2 (60°) first → AP 1. a4: skipped.
  assert.deepEqual([r.validQueries, r.skippedQueries], [4, 1]);
  assert.deepEqual(r.recall, [0.75, 0.75]);
  assertClose([r.mAP], [(1 + 1 + 0.25 + 1) / 4], { atol: 1e-7 });
});

test('all-vs-all equals a brute-force sort of every row (random data, ties impossible)', async () => {
  await selectBackend('cpu');
  const rng = new Rng(5);
  const n = 40;
  const x = l2Normalize(featureMatrix(n, 6, Float32Array.from({ length: n * 6 }, () => rng.normal())));
  const labels = Int32Array.from({ length: n }, () => rng.int(4));
  const ks = [1, 2, 4, 8];
  const hits = new Float64Array(ks.length);
  let apSum = 0;
  let valid = 0;
  for (let q = 0; q < n; q++) {
    const others = Array.from({ length: n }, (_, i) => i).filter((i) => i !== q);
    const dot = (i: number) => x.data.subarray(i * 6, i * 6 + 6).reduce((s, v, j) => s + v * x.data[q * 6 + j]!, 0);
    others.sort((a, b) => dot(b) - dot(a));
    const rel = others.map((i) => labels[i] === labels[q]);
    if (!rel.includes(true)) continue;
    valid++;
    ks.forEach((k, i) => (hits[i]! += rel.slice(0, k).includes(true) ? 1 : 0));
    let found = 0;
    let ap = 0;
    rel.forEach((r, rank) => {
      if (r) ap += ++found / (rank + 1);
    });
    apSum += ap / found;
  }
  const r = evaluateAllVsAll(x, labels, { ks, budgetFloats: 7 * n });
  assertClose(r.recall, Array.from(hits, (h) => h / valid), { atol: 1e-12 });
  assertClose([r.mAP], [apSum / valid], { atol: 1e-6 });
});

test('allVsAllMetrics: NMI of k-means is 1 on well-separated classes, and the seed makes it repeatable', async () => {
  await selectBackend('cpu');
  const rng = new Rng(2);
  const centres = [[10, 0, 0], [0, 10, 0], [0, 0, 10]];
  const labels = Int32Array.from({ length: 30 }, (_, i) => i % 3);
  const x = featureMatrix(30, 3, Float32Array.from({ length: 90 }, (_, k) => centres[labels[Math.floor(k / 3)]!]![k % 3]! + rng.normal() * 0.1));
  const m = allVsAllMetrics(x, labels, { seed: 4 });
  assert.deepEqual([m.recall[0], m.mAP, m.nmi], [1, 1, 1]);
  assert.equal(allVsAllMetrics(x, labels, { nmi: false }).nmi, null);
  // overlapping classes: NMI below 1, the same for the same seed
  const mixed = Int32Array.from({ length: 30 }, (_, i) => Math.floor(i / 10)); // independent of the clusters
  const a = allVsAllMetrics(x, mixed, { seed: 4 });
  assert.ok(a.nmi !== null && a.nmi < 0.5, `NMI ${a.nmi}`);
  assert.equal(allVsAllMetrics(x, mixed, { seed: 4 }).nmi, a.nmi);
});

test('all-vs-all: bad input is a named error', async () => {
  await selectBackend('cpu');
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof PulError);
      return `${err.code}: ${err.message}`;
    }
    return 'no error';
  };
  assert.match(code(() => evaluateAllVsAll(line, Int32Array.of(0, 1), {}, 'f.npy')), /^features\.mismatch: f\.npy: 5 feature rows for 2 labels/);
  assert.match(code(() => evaluateAllVsAll(line, Int32Array.of(0, 1, 2, 3, 4))), /^features\.mismatch: .*no class has two images/);
  assert.match(code(() => evaluateAllVsAll(line, Int32Array.of(0, 0, 1, -1, 1))), /^features\.malformed: .*row 3 has class -1/);
  assert.match(code(() => evaluateAllVsAll(line, lineLabels, { ks: [0] })), /^option\.invalid: Recall@K: K=0/);
});

test('all-vs-all on binary codes: Hamming distances, ties to the lower row, on every popcount path', () => {
  // 8-bit codes: r0 = 00000000 (class 0), r1 = 00000011 (0), r2 = 00000001 (1), r3 = 11110000 (1).
  // Distances: r0–r1 2, r0–r2 1, r0–r3 4, r1–r2 1, r1–r3 6, r2–r3 5.
  //   r0: r2 r1* r3    → AP 1/2      r1: r2 r0* r3 → AP 1/2
  //   r2: r0 r1 (tie at 1, lower row first) r3* → AP 1/3      r3: r0 r2* r1 → AP 1/2
  // Recall@1 = 0, Recall@2 = 3/4, Recall@4 = 1; mAP = (1/2 + 1/2 + 1/3 + 1/2) / 4 = 11/24.
  const sign = (bits: number[]) => Array.from({ length: 8 }, (_, j) => (bits.includes(j) ? 1 : -1));
  const codes = packSigns(featureMatrix(4, 8, Float32Array.from([...sign([]), ...sign([0, 1]), ...sign([0]), ...sign([4, 5, 6, 7])])));
  for (const path of ['js', ...nativeHammingPaths()] as const) {
    const r = evaluateCodesAllVsAll(codes, Int32Array.of(0, 0, 1, 1), { ks: [1, 2, 4], path });
    assert.deepEqual(r.recall, [0, 0.75, 1], path);
    assertClose([r.mAP], [11 / 24], { atol: 1e-12 });
  }
  assert.throws(() => evaluateCodesAllVsAll(codes, Int32Array.of(0, 0, 1)), (e: unknown) => e instanceof PulError && e.code === 'features.mismatch');
});
