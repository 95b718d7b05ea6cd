import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PulError, Rng, evaluateFeatures, featureMatrix, l2Normalize, selectBackend, type FeatureMatrix, type IndexRow } from '../../src/index.js';
import { distanceBlocks } from '../../src/evaluation/distance.js';
import { assertClose } from '../helpers/assert-close.js';

function randomMatrix(rng: Rng, rows: number, dim: number): FeatureMatrix {
  return featureMatrix(rows, dim, Float32Array.from({ length: rows * dim }, () => rng.normal()));
}

/** Distances the slow way, in float64. */
function bruteForce(q: FeatureMatrix, g: FeatureMatrix, metric: 'cosine' | 'euclidean'): Float64Array {
  const out = new Float64Array(q.rows * g.rows);
  for (let i = 0; i < q.rows; i++) {
    for (let j = 0; j < g.rows; j++) {
      let dot = 0;
      let sq = 0;
      for (let k = 0; k < q.dim; k++) {
        const a = q.data[i * q.dim + k]!;
        const b = g.data[j * g.dim + k]!;
        dot += a * b;
        sq += (a - b) * (a - b);
      }
      out[i * g.rows + j] = metric === 'cosine' ? 1 - dot : sq;
    }
  }
  return out;
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`distance blocks (${backend}): cosine and squared Euclidean match a brute-force loop, blocks stay within the budget`, async () => {
    await selectBackend(backend);
    const rng = new Rng(7);
    const q = l2Normalize(randomMatrix(rng, 13, 9));
    const g = l2Normalize(randomMatrix(rng, 11, 9));
    for (const metric of ['cosine', 'euclidean'] as const) {
      const got = new Float64Array(q.rows * g.rows);
      const firsts: number[] = [];
      // budget of 3 gallery rows' worth: blocks of 3 query rows (the last one of 1)
      for (const block of distanceBlocks(q, g, { metric, budgetFloats: 3 * g.rows + 2 })) {
        assert.ok(block.data.length <= 3 * g.rows);
        firsts.push(block.first);
        got.set(block.data, block.first * g.rows);
      }
      assert.deepEqual(firsts, [0, 3, 6, 9, 12]);
      assertClose(got, bruteForce(q, g, metric), { atol: 2e-6, rtol: 1e-5, label: metric });
    }
  });
}

const rows = (pids: number[], camids: number[]): IndexRow[] => pids.map((pid, i) => ({ path: `${i}.jpg`, pid, camid: camids[i]! }));

test('evaluateFeatures: cosine ignores feature scale, Euclidean does not (hand-computed)', async () => {
  await selectBackend('cpu');
  // query along x; gallery: a match along x but long, a distractor at 45° of unit length
  const query = { features: featureMatrix(1, 2, Float32Array.from([1, 0])), index: rows([1], [0]) };
  const gallery = { features: featureMatrix(2, 2, Float32Array.from([3, 0, Math.SQRT1_2, Math.SQRT1_2])), index: rows([1, 0], [1, 1]) };
  // cosine: match d = 0, distractor 1 − 0.707 → AP 1
  assert.equal(evaluateFeatures(query, gallery).mAP, 1);
  // euclidean: match |(1,0)−(3,0)|² = 4, distractor ≈ 0.586 → the match is second: AP 1/2, INP 1/2
  const e = evaluateFeatures(query, gallery, { metric: 'euclidean', ranks: [1, 2] });
  assert.deepEqual([e.mAP, e.mINP, e.cmc], [0.5, 0.5, [0, 1]]);
});

test('evaluateFeatures refuses mismatched dimensions, unlabelled rows and bad ranks, naming the source', async () => {
  await selectBackend('cpu');
  const q = { features: featureMatrix(1, 3), index: rows([1], [0]) };
  const g = { features: featureMatrix(1, 2), index: rows([1], [1]) };
  const isPul = (code: string, pattern: RegExp) => (e: unknown) => e instanceof PulError && e.code === code && pattern.test(e.message);
  assert.throws(() => evaluateFeatures(q, g, {}, { query: 'q-dir', gallery: 'g-dir' }), isPul('features.mismatch', /q-dir has 3-dimensional features, g-dir 2-dimensional/));
  const g3 = { features: featureMatrix(1, 3, Float32Array.from([1, 0, 0])), index: [{ path: 'x.jpg', pid: null, camid: 1 }] };
  assert.throws(() => evaluateFeatures(q, g3, {}, { query: 'q-dir', gallery: 'g-dir' }), isPul('features.malformed', /g-dir: row 2 \(x\.jpg\) has no pid/));
  const g4 = { features: featureMatrix(1, 3, Float32Array.from([1, 0, 0])), index: rows([1], [1]) };
  assert.throws(() => evaluateFeatures(q, g4, { ranks: [0] }), isPul('option.invalid', /rank 0 is not a whole number/));
  // every query skipped: a data error, not a report of zeros
  const gSame = { features: g4.features, index: rows([1], [0]) };
  assert.throws(() => evaluateFeatures(q, gSame, {}, { query: 'q-dir', gallery: 'g-dir' }), isPul('features.mismatch', /no query of q-dir has a true match/));
});
