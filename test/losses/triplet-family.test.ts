import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPulError, tf, tripletBatchAll, tripletBatchHard, tripletRandom, tripletSoftmaxWeighted, type LossValue, type TripletMargin } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { lossOn } from '../helpers/loss-values.js';

type TripletFn = (e: tf.Tensor2D, l: tf.Tensor1D, opts: { margin?: TripletMargin; normalize?: boolean }) => LossValue;
const FAMILY: Record<string, TripletFn> = {
  'batch-hard': tripletBatchHard,
  'batch-all': tripletBatchAll,
  'softmax-weighted': tripletSoftmaxWeighted,
  random: (e, l, opts) => tripletRandom(e, l, { ...opts, seed: 3 }),
};

// 1-D points 0, 1 | 3, 5 (labels 0, 0, 1, 1); the distances used below:
//   from 0: to 1 → 1, to 3 → 3, to 5 → 5     from 1: to 0 → 1, to 3 → 2, to 5 → 4
//   from 3: to 5 → 2, to 0 → 3, to 1 → 2     from 5: to 3 → 2, to 0 → 5, to 1 → 4
const POINTS = [[0], [1], [3], [5]];
const LABELS = [0, 0, 1, 1];

for (const backend of TEST_BACKENDS) {
  describe(`triplet losses (${backend})`, () => {
    it('batch-hard by hand: hinge and soft margin; no tensor left', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      // m = 0.5, per anchor (hardest positive, nearest negative): (1, 3) → 0, (1, 2) → 0, (2, 2) → 0.5, (2, 4) → 0; mean 0.125
      const hinge = lossOn((e, l) => tripletBatchHard(e, l, { margin: 0.5 }), POINTS, LABELS);
      assertClose([hinge.loss, hinge.activeShare!], [0.125, 0.25], { atol: 1e-5 });
      assertClose(hinge.perAnchor!, [0, 0, 0.5, 0], { atol: 1e-5 });
      // soft: ln(1 + e^{dp − dn}) = softplus(−2) 0.126928, softplus(−1) 0.313262, ln 2 0.693147, softplus(−2); mean 0.315066
      const soft = lossOn((e, l) => tripletBatchHard(e, l, { margin: 'soft' }), POINTS, LABELS);
      assertClose(soft.perAnchor!, [0.126928, 0.313262, 0.693147, 0.126928], { atol: 1e-5 });
      assertClose([soft.loss, soft.activeShare!], [0.315066, 1], { atol: 1e-5 });
      assert.equal(tf.memory().numTensors, before);
    });

    it('batch-all by hand: mean over the non-zero terms, the count of active triplets', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const run = (margin: number) =>
        tf.tidy(() => {
          const v = tripletBatchAll(tf.tensor2d(POINTS), tf.tensor1d(LABELS, 'int32'), { margin });
          return [v.loss, v.activeShare, v.perAnchor, v.activeTriplets].map((t) => Array.from(t.dataSync()));
        });
      // m = 0.5: of the 8 triplets only (a 3, p 5, n 1) is active: 2 − 2 + 0.5 = 0.5 → loss 0.5, 1 of 8
      const [loss, share, perAnchor, active] = run(0.5);
      assertClose([...loss!, ...share!, ...active!], [0.5, 1 / 8, 1], { atol: 1e-5 });
      assertClose(perAnchor!, [0, 0, 0.5, 0], { atol: 1e-5 });
      // m = 2.5: (0,1,3) 1−3+2.5 = 0.5, (0,1,5) −1.5 → 0, (1,0,3) 1−2+2.5 = 1.5, (1,0,5) −0.5 → 0,
      // (3,5,0) 2−3+2.5 = 1.5, (3,5,1) 2.5, (5,3,0) −0.5 → 0, (5,3,1) 2−4+2.5 = 0.5: 5 active, Σ 6.5 → 1.3
      const [loss2, share2, perAnchor2, active2] = run(2.5);
      assertClose([...loss2!, ...share2!, ...active2!], [1.3, 5 / 8, 5], { atol: 1e-5 });
      assertClose(perAnchor2!, [0.5, 1.5, 2, 0.5], { atol: 1e-5 });
      assert.equal(tf.memory().numTensors, before);
    });

    it('softmax-weighted by hand: softmax(d) over positives, softmax(−d) over negatives', async () => {
      await useBackend(backend);
      // K = 2, m = 2: one positive each; negatives weighted σ(±Δ): anchor 0: negatives 3, 5 → 3·σ(2) + 5·σ(−2) = 3.238406
      // → 1 − 3.238406 + 2 < 0; anchor 1: 2·σ(2) + 4·σ(−2) = 2.238406 → 0.761594; anchor 3: negatives 3, 2 →
      // 2·σ(1) + 3·σ(−1) = 2.268941 → 2 − 2.268941 + 2 = 1.731059; anchor 5: negatives 5, 4 → 4.268941 → < 0.
      const k2 = lossOn((e, l) => tripletSoftmaxWeighted(e, l, { margin: 2 }), POINTS, LABELS);
      assertClose(k2.perAnchor!, [0, 0.761594, 1.731059, 0], { atol: 1e-5 });
      assertClose([k2.loss, k2.activeShare!], [(0.761594 + 1.731059) / 4, 0.5], { atol: 1e-5 });
      // K = 3: points 0, 1, 3 | 10, m = 8. Anchor 0: positives 1, 3 → 1·σ(−2) + 3·σ(2) = 2.761594, negative 10
      // → 0.761594; anchor 1: positives 1, 2 → 1·σ(−1) + 2·σ(1) = 1.731059, negative 9 → 0.731059; anchor 3:
      // positives 3, 2 → 3·σ(1) + 2·σ(−1) = 2.731059, negative 7 → 3.731059; anchor 10 has no positive: not counted.
      const k3 = lossOn((e, l) => tripletSoftmaxWeighted(e, l, { margin: 8 }), [[0], [1], [3], [10]], [0, 0, 0, 1]);
      assertClose(k3.perAnchor!, [0.761594, 0.731059, 3.731059, 0], { atol: 1e-4 });
      assertClose([k3.loss, k3.activeShare!], [(0.761594 + 0.731059 + 3.731059) / 3, 1], { atol: 1e-4 });
    });

    it('random: seeded draws of one positive and one negative per anchor, each candidate drawn about equally', async () => {
      await useBackend(backend);
      // m = 10 keeps every hinge open, so ℓ_a = d_ap − d_an + 10 names the drawn triplet.
      // Points 0, 1 | 3, 5 (K = 2): one positive each, two negatives — d_an = d_ap + 10 − ℓ_a.
      const negatives = [[3, 5], [2, 4], [3, 2], [5, 4]];
      const positives = [1, 1, 2, 2];
      const counts = negatives.map(() => new Map<number, number>());
      const seeds = 200;
      for (let seed = 0; seed < seeds; seed++) {
        const v = lossOn((e, l) => tripletRandom(e, l, { margin: 10, seed }), POINTS, LABELS);
        v.perAnchor!.forEach((l, a) => {
          const dn = Math.round(positives[a]! + 10 - l);
          assert.ok(negatives[a]!.includes(dn), `seed ${seed}, anchor ${a}: drew a negative at ${dn}`);
          counts[a]!.set(dn, (counts[a]!.get(dn) ?? 0) + 1);
        });
        assertClose([v.loss], [v.perAnchor!.reduce((s, x) => s + x, 0) / 4], { atol: 1e-5 });
      }
      // binomial(200, ½): sd 7 %, so 30–70 % is a 5-sd band
      for (const c of counts) for (const n of c.values()) assert.ok(n > 0.3 * seeds && n < 0.7 * seeds, `draw counts ${[...c.entries()].join(' ')}`);
      // points 0, 1, 3 | 10: anchors 0–2 have two positives and one negative — d_ap = ℓ_a − 10 + d_an
      const pos = [[1, 3], [1, 2], [3, 2]];
      const negative = [10, 9, 7];
      for (let seed = 0; seed < 20; seed++) {
        const v = lossOn((e, l) => tripletRandom(e, l, { margin: 10, seed }), [[0], [1], [3], [10]], [0, 0, 0, 1]);
        v.perAnchor!.slice(0, 3).forEach((l, a) => assert.ok(pos[a]!.includes(Math.round(l - 10 + negative[a]!)), `anchor ${a}: ℓ ${l}`));
        assert.equal(v.perAnchor![3], 0);
      }
      // the same seed repeats; another seed draws differently somewhere
      const again = (seed: number) => lossOn((e, l) => tripletRandom(e, l, { margin: 10, seed }), POINTS, LABELS).perAnchor!;
      assert.deepEqual(again(5), again(5));
      assert.ok([6, 7, 8, 9].some((s) => again(s).join() !== again(5).join()));
    });

    for (const [name, fn] of Object.entries(FAMILY)) {
      it(`${name}: edges — one identity, anchors without a positive, one row — finite, no fake terms, no tensor left`, async () => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        for (const margin of [0.3, 'soft'] as const) {
          // one identity: no negative anywhere; distinct labels: no positive anywhere; a single row
          for (const [x, y] of [[POINTS, [4, 4, 4, 4]], [POINTS, [0, 1, 2, 3]], [[[2, 1]], [0]]] as const) {
            const v = lossOn((e, l) => fn(e, l, { margin }), x, y);
            assert.deepEqual([v.loss, v.activeShare, v.perAnchor!.every((p) => p === 0)], [0, 0, true], `${name} ${margin} labels ${y.join()}`);
            const grad = analyticGrad((t) => fn(t, tf.tensor1d([...y], 'int32'), { margin }).loss, x);
            assert.ok(grad.every((g) => g === 0), `${name}: zero gradient, got ${grad.join(', ')}`);
          }
        }
        // points 0, 1 | 3 | 5 with labels 0, 0, 1, 2 and m = 4.5: the anchors at 3 and 5 have no positive and are not
        // counted (a masked stand-in d_ap = 0 would have added 0 − 2 + 4.5 = 2.5 and 0 − 4 + 4.5 = 0.5).
        const v = lossOn((e, l) => fn(e, l, { margin: 4.5 }), POINTS, [0, 0, 1, 2]);
        assert.deepEqual(v.perAnchor!.slice(2), [0, 0]);
        assert.equal(v.activeShare, 1);
        const expected: Record<string, [number[], number]> = {
          // anchor 0: 1 − 3 + 4.5; anchor 1: 1 − 2 + 4.5 (nearest negatives)
          'batch-hard': [[2.5, 3.5], 3],
          // anchor 0: n at 3 → 2.5, at 5 → 0.5; anchor 1: 3.5, 1.5 → per-anchor means 1.5, 2.5; loss Σ 8 / 4 active
          'batch-all': [[1.5, 2.5], 2],
          // anchor 0: d⁻ = 3·σ(2) + 5·σ(−2) = 3.238406; anchor 1: 2·σ(2) + 4·σ(−2) = 2.238406
          'softmax-weighted': [[1 - 3.238406 + 4.5, 1 - 2.238406 + 4.5], (2.261594 + 3.261594) / 2],
        };
        const want = expected[name];
        if (want === undefined) {
          // random: anchor 0 drew the negative at 3 (2.5) or at 5 (0.5), anchor 1 at 2 (3.5) or at 4 (1.5)
          assert.ok([2.5, 0.5].some((t) => Math.abs(t - v.perAnchor![0]!) < 1e-5) && [3.5, 1.5].some((t) => Math.abs(t - v.perAnchor![1]!) < 1e-5));
          assertClose([v.loss], [(v.perAnchor![0]! + v.perAnchor![1]!) / 2], { atol: 1e-5 });
        } else {
          assertClose(v.perAnchor!.slice(0, 2), want[0], { atol: 1e-5, label: name });
          assertClose([v.loss], [want[1]], { atol: 1e-5, label: name });
        }
        assert.equal(tf.memory().numTensors, before);
      });
    }

    it('gradients match central finite differences (distinct distances, hinges open, away from kinks)', async () => {
      await useBackend(backend);
      const x = [[0.3, -1.2, 0.8], [1.5, 0.2, -0.4], [-0.7, 0.6, 1.1], [0.2, 0.9, -0.5], [1.1, -0.3, 0.4], [-0.9, -0.8, 0.2]];
      const y = [0, 0, 1, 1, 2, 2];
      for (const [name, fn] of Object.entries(FAMILY)) {
        for (const [margin, normalize] of [[3, false], ['soft', false], [1.5, true]] as const) {
          const f = (t: tf.Tensor2D): tf.Scalar => fn(t, tf.tensor1d(y, 'int32'), { margin, normalize }).loss;
          assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: `${name} margin ${margin} normalize ${normalize}` });
        }
      }
    });

    it('a bad margin or seed is a PulError naming it', async () => {
      await useBackend(backend);
      for (const fn of Object.values(FAMILY)) {
        assert.throws(() => lossOn((e, l) => fn(e, l, { margin: -0.1 }), POINTS, LABELS), (e) => isPulError(e) && e.code === 'option.outOfRange' && e.where?.option === 'margin');
        assert.throws(() => lossOn((e, l) => fn(e, l, { margin: Number.NaN }), POINTS, LABELS), (e) => isPulError(e) && e.code === 'option.outOfRange');
      }
      assert.throws(() => lossOn((e, l) => tripletRandom(e, l, { seed: Number.POSITIVE_INFINITY }), POINTS, LABELS), (e) => isPulError(e) && e.where?.option === 'seed');
      assert.throws(() => lossOn(tripletBatchHard, POINTS, [0, 1]), (e) => isPulError(e) && e.code === 'option.invalid');
    });
  });
}
