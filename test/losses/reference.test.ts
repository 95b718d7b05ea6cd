import { describe, it } from 'node:test';
import { Rng, contrastiveLoss, globalLoss, liftedStructuredLoss, nPairLoss, tf, tripletBatchAll, tripletBatchHard, tripletSoftmaxWeighted } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { lossOn } from '../helpers/loss-values.js';

// Plain loops over the definitions (float64), against the tensor implementations on random P×K batches.
type Rows = number[][];
const dist = (a: number[], b: number[]): number => Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]!) ** 2, 0));
const mean = (v: number[]): number => (v.length === 0 ? 0 : v.reduce((s, x) => s + x, 0) / v.length);
const hinge = (x: number): number => Math.max(0, x);

function reference(x: Rows, y: number[]) {
  const n = x.length;
  const pos = (a: number) => [...Array(n).keys()].filter((j) => j !== a && y[j] === y[a]);
  const neg = (a: number) => [...Array(n).keys()].filter((j) => y[j] !== y[a]);
  const d = (i: number, j: number) => dist(x[i]!, x[j]!);
  const anchors = [...Array(n).keys()].filter((a) => pos(a).length > 0 && neg(a).length > 0);
  const softmaxMean = (vals: number[], sign: number) => {
    const w = vals.map((v) => Math.exp(sign * v));
    const z = w.reduce((s, v) => s + v, 0);
    return vals.reduce((s, v, k) => s + (v * w[k]!) / z, 0);
  };
  const pairs = (same: boolean) => {
    const out: [number, number][] = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if ((y[i] === y[j]) === same) out.push([i, j]);
    return out;
  };
  return {
    batchHard: (m: number) => mean(anchors.map((a) => hinge(Math.max(...pos(a).map((p) => d(a, p))) - Math.min(...neg(a).map((q) => d(a, q))) + m))),
    batchAll: (m: number) => {
      const terms = anchors.flatMap((a) => pos(a).flatMap((p) => neg(a).map((q) => hinge(d(a, p) - d(a, q) + m)))).filter((t) => t > 0);
      return [terms.reduce((s, t) => s + t, 0) / Math.max(terms.length, 1), terms.length];
    },
    weighted: (m: number) => mean(anchors.map((a) => hinge(softmaxMean(pos(a).map((p) => d(a, p)), 1) - softmaxMean(neg(a).map((q) => d(a, q)), -1) + m))),
    contrastive: (m: number) => mean(pairs(true).map(([i, j]) => d(i, j) ** 2 / 2)) + mean(pairs(false).map(([i, j]) => hinge(m - d(i, j)) ** 2 / 2)),
    lifted: (m: number) => {
      const terms = pairs(true).map(([i, j]) => {
        const s = neg(i).reduce((acc, k) => acc + Math.exp(m - d(i, k)), 0) + neg(j).reduce((acc, l) => acc + Math.exp(m - d(j, l)), 0);
        return hinge(Math.log(s) + d(i, j)) ** 2;
      });
      return terms.reduce((s, t) => s + t, 0) / (2 * terms.length);
    },
    global: (t: number, lambda: number) => {
      const moments = (ps: [number, number][]) => {
        const v = ps.map(([i, j]) => d(i, j) ** 2);
        const mu = mean(v);
        return [mu, mean(v.map((e) => (e - mu) ** 2))] as const;
      };
      const [mp, vp] = moments(pairs(true));
      const [mn, vn] = moments(pairs(false));
      return vp + vn + lambda * hinge(mp - mn + t);
    },
    // K = 2 batches only: one pair per identity, rows in order
    nPair: () => {
      const ids = [...new Set(y)];
      const rows = ids.map((c) => [...Array(n).keys()].filter((j) => y[j] === c));
      const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k]!, 0);
      return mean(rows.map(([a, p]) => Math.log(1 + rows.filter(([a2]) => a2 !== a).reduce((s, [, q]) => s + Math.exp(dot(x[a!]!, x[q!]!) - dot(x[a!]!, x[p!]!)), 0))));
    },
  };
}

for (const backend of TEST_BACKENDS) {
  describe(`metric losses against plain loops (${backend})`, () => {
    it('random P×K batches (P = 4, K = 3, D = 5; K = 2 for N-pair), several margins: within 1e-4 relative', async () => {
      await useBackend(backend);
      const rng = new Rng(15);
      for (let trial = 0; trial < 4; trial++) {
        const x = Array.from({ length: 12 }, () => Array.from({ length: 5 }, () => rng.normal()));
        const y = Array.from({ length: 12 }, (_, i) => Math.floor(i / 3));
        const ref = reference(x, y);
        const close = (got: number, want: number, label: string) => assertClose([got], [want], { atol: 1e-5, rtol: 1e-4, label: `trial ${trial}: ${label}` });
        for (const m of [0.3, 1, 2.5]) {
          close(lossOn((e, l) => tripletBatchHard(e, l, { margin: m }), x, y).loss, ref.batchHard(m), `batch-hard m ${m}`);
          close(lossOn((e, l) => tripletSoftmaxWeighted(e, l, { margin: m }), x, y).loss, ref.weighted(m), `weighted m ${m}`);
          const [loss, count] = ref.batchAll(m);
          close(lossOn((e, l) => tripletBatchAll(e, l, { margin: m }), x, y).loss, loss!, `batch-all m ${m}`);
          const active = tf.tidy(() => tripletBatchAll(tf.tensor2d(x), tf.tensor1d(y, 'int32'), { margin: m }).activeTriplets.dataSync()[0]!);
          close(active, count!, `batch-all active m ${m}`);
          close(lossOn((e, l) => contrastiveLoss(e, l, { margin: m, normalize: false }), x, y).loss, ref.contrastive(m), `contrastive m ${m}`);
          close(lossOn((e, l) => liftedStructuredLoss(e, l, { margin: m }), x, y).loss, ref.lifted(m), `lifted m ${m}`);
          close(lossOn((e, l) => globalLoss(e, l, { margin: m, lambda: 0.7, normalize: false }), x, y).loss, ref.global(m, 0.7), `global t ${m}`);
        }
        const y2 = Array.from({ length: 12 }, (_, i) => Math.floor(i / 2));
        close(lossOn((e, l) => nPairLoss(e, l, { l2: 0 }), x, y2).loss, reference(x, y2).nPair(), 'n-pair');
      }
    });
  });
}
