import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/index.js';
import { RankAccumulator } from '../../src/evaluation/rank.js';

const labels = (pids: number[], camids: number[]) => ({ pids: Int32Array.from(pids), camids: Int32Array.from(camids) });

test('a hand-computed query: same-camera removal, junk, distractor, tie broken by gallery order', () => {
  // gallery:      0      1      2       3      4      5
  // pid           7      7      -1(junk) 0     3      7
  // camid         1      2      1       1      1      1(same as query → removed)
  // distance      0.5    0.2    0.1     0.2    0.3    0.0
  const acc = new RankAccumulator(labels([7, 7, -1, 0, 3, 7], [1, 2, 1, 1, 1, 0]));
  acc.addQuery(0, Float32Array.from([0.5, 0.2, 0.1, 0.2, 0.3, 0.0]), 7, 0);
  // valid order: g1 (0.2, index 1) before g3 (0.2, index 3), g4 (0.3), g0 (0.5); junk and g5 removed
  // matches g1 at rank 0 and g0 at rank 3 → AP = (1/1 + 2/4) / 2 = 0.75; INP = 2/4; CMC@1 = 1
  const r = acc.report();
  assert.equal(r.validQueries, 1);
  assert.equal(r.mAP, 0.75);
  assert.equal(r.mINP, 0.5);
  assert.deepEqual(r.cmc, [1, 1, 1, 1]);
});

test('a tie between a match and a non-match goes to the lower gallery index', () => {
  const acc = new RankAccumulator(labels([0, 4], [1, 1]));
  acc.addQuery(0, Float32Array.from([0.3, 0.3]), 4, 0); // distractor g0 ties with the match g1 and comes first
  assert.equal(acc.report().mAP, 0.5);
  assert.deepEqual(acc.report().cmc, [0, 1, 1, 1]);
});

test('a query with no true match in another camera is skipped and counted, not an error', () => {
  const acc = new RankAccumulator(labels([5, 6], [0, 1]), { ranks: [1] });
  acc.addQuery(0, Float32Array.from([0.1, 0.2]), 5, 0); // its only match shares its camera
  acc.addQuery(1, Float32Array.from([0.9, 0.2]), 6, 0);
  const r = acc.report();
  assert.deepEqual([r.validQueries, r.skippedQueries, r.skippedExamples], [1, 1, [0]]);
  assert.equal(r.mAP, 1);
});

test('trapezoidal AP (original Market / PUL code) differs from the standard one as computed by hand', () => {
  const gallery = labels([1, 2, 1, 2, 1], [1, 1, 1, 1, 1]);
  const d = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]); // matches at ranks 0, 2, 4
  const standard = new RankAccumulator(gallery);
  standard.addQuery(0, d, 1, 0);
  const trapezoid = new RankAccumulator(gallery, { ap: 'trapezoid' });
  trapezoid.addQuery(0, d, 1, 0);
  assert.ok(Math.abs(standard.report().mAP - (1 + 2 / 3 + 3 / 5) / 3) < 1e-12);
  // ((1+1)/2 + (1/2+2/3)/2 + (2/4+3/5)/2) / 3
  assert.ok(Math.abs(trapezoid.report().mAP - (1 + (0.5 + 2 / 3) / 2 + (0.5 + 0.6) / 2) / 3) < 1e-12);
});

test('without camera removal (plain retrieval) same-camera matches count: Recall@K', () => {
  const acc = new RankAccumulator(labels([5, 6], [0, 0]), { ranks: [1, 2], removeSameCamera: false });
  acc.addQuery(0, Float32Array.from([0.4, 0.1]), 5, 0);
  assert.deepEqual(acc.report().cmc, [0, 1]);
});

/** torchreid's algorithm with a stable sort, written the slow way, as an oracle. */
function oracle(dist: Float32Array[], qp: number[], qc: number[], gp: number[], gc: number[]) {
  let ap = 0, inp = 0, valid = 0;
  const cmc = [0, 0, 0, 0];
  dist.forEach((row, q) => {
    const order = Array.from(row.keys()).sort((a, b) => row[a]! - row[b]! || a - b);
    const kept = order.filter((g) => gp[g] !== -1 && !(gp[g] === qp[q] && gc[g] === qc[q]));
    const pos = kept.flatMap((g, i) => (gp[g] === qp[q] ? [i] : []));
    if (pos.length === 0) return;
    valid++;
    ap += pos.reduce((s, p, i) => s + (i + 1) / (p + 1), 0) / pos.length;
    inp += pos.length / (pos.at(-1)! + 1);
    [1, 5, 10, 20].forEach((k, i) => (cmc[i]! += pos[0]! < k ? 1 : 0));
  });
  return { mAP: ap / valid, mINP: inp / valid, cmc: cmc.map((c) => c / valid), valid };
}

test('agrees with a brute-force sort on random cases with many ties', () => {
  const rng = new Rng(31);
  for (let trial = 0; trial < 20; trial++) {
    const Q = 1 + rng.int(15), G = 1 + rng.int(60);
    const gp = Array.from({ length: G }, () => rng.int(6) - 1), gc = Array.from({ length: G }, () => rng.int(3));
    const qp = Array.from({ length: Q }, () => 1 + rng.int(4)), qc = Array.from({ length: Q }, () => rng.int(3));
    // distances on a coarse grid so that ties are frequent
    const dist = Array.from({ length: Q }, () => Float32Array.from({ length: G }, () => rng.int(8) / 8));
    const acc = new RankAccumulator(labels(gp, gc));
    dist.forEach((row, q) => acc.addQuery(q, row, qp[q]!, qc[q]!));
    const got = acc.report();
    const want = oracle(dist, qp, qc, gp, gc);
    assert.equal(got.validQueries, want.valid);
    if (want.valid === 0) continue;
    assert.ok(Math.abs(got.mAP - want.mAP) < 1e-12, `trial ${trial}: mAP ${got.mAP} vs ${want.mAP}`);
    assert.ok(Math.abs(got.mINP - want.mINP) < 1e-12);
    got.cmc.forEach((c, i) => assert.ok(Math.abs(c - want.cmc[i]!) < 1e-12));
  }
});
