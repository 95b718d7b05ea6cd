/**
 * The streaming k-reciprocal re-ranking against a literal, dense transcription of the reference
 * algorithm (Zhong et al. 2017; torchreid's re_ranking) on small random cases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng, featureMatrix, l2Normalize, selectBackend, type FeatureMatrix } from '../../src/index.js';
import { rerankedDistanceBlocks } from '../../src/evaluation/rerank.js';

function denseReference(q: FeatureMatrix, g: FeatureMatrix, k1: number, k2: number, lambda: number): Float64Array[] {
  const all = [...Array.from({ length: q.rows }, (_, i) => q.data.subarray(i * q.dim, (i + 1) * q.dim)), ...Array.from({ length: g.rows }, (_, i) => g.data.subarray(i * g.dim, (i + 1) * g.dim))];
  const N = all.length;
  const dist = all.map((a) => all.map((b) => 1 - a.reduce((s, x, t) => s + x * b[t]!, 0)));
  // original_dist = (d²) / max over axis 0, transposed
  const sq = dist.map((row) => row.map((d) => d * d));
  const colMax = sq[0]!.map((_, j) => Math.max(...sq.map((row) => row[j]!)));
  const original = sq.map((_, i) => sq.map((row) => row[i]! / colMax[i]!));
  const rank = original.map((row) => Array.from(row.keys()).sort((a, b) => row[a]! - row[b]! || a - b));
  const V = original.map(() => new Float64Array(N));
  const kRecip = (i: number, k: number) => rank[i]!.slice(0, k + 1).filter((f) => rank[f]!.slice(0, k + 1).includes(i));
  for (let i = 0; i < N; i++) {
    const recip = kRecip(i, k1);
    let expansion = [...recip];
    for (const c of recip) {
      const cand = kRecip(c, Math.round(k1 / 2));
      if (cand.filter((x) => recip.includes(x)).length > (2 / 3) * cand.length) expansion = expansion.concat(cand);
    }
    const uniq = [...new Set(expansion)];
    const w = uniq.map((j) => Math.exp(-original[i]![j]!));
    const total = w.reduce((a, b) => a + b, 0);
    uniq.forEach((j, t) => (V[i]![j] = w[t]! / total));
  }
  const Vqe = V.map((_, i) => {
    const out = new Float64Array(N);
    for (const n of rank[i]!.slice(0, k2)) V[n]!.forEach((v, j) => (out[j]! += v / k2));
    return out;
  });
  return Array.from({ length: q.rows }, (_, i) => {
    const tm = new Float64Array(N);
    for (let j = 0; j < N; j++) {
      if (Vqe[i]![j] === 0) continue;
      for (let k = 0; k < N; k++) if (Vqe[k]![j] !== 0) tm[k]! += Math.min(Vqe[i]![j]!, Vqe[k]![j]!);
    }
    return Float64Array.from({ length: g.rows }, (_, gi) => (1 - tm[q.rows + gi]! / (2 - tm[q.rows + gi]!)) * (1 - lambda) + original[i]![q.rows + gi]! * lambda);
  });
}

function randomFeatures(rng: Rng, rows: number, dim: number, centres: Float32Array[]): FeatureMatrix {
  const data = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = centres[rng.int(centres.length)]!;
    for (let t = 0; t < dim; t++) data[r * dim + t] = c[t]! + 0.6 * rng.normal();
  }
  return l2Normalize(featureMatrix(rows, dim, data));
}

/** The query rows of a block stream, checking that the blocks cover every query exactly once, in order. */
function collectRows(blocks: Iterable<{ first: number; rows: number; data: Float32Array | Float64Array }>, Q: number, G: number): { rows: Float64Array[]; blocks: number } {
  const rows: Float64Array[] = [];
  let count = 0;
  for (const block of blocks) {
    assert.equal(block.first, rows.length, `block ${count} starts at query ${block.first}, expected ${rows.length}`);
    assert.ok(block.rows >= 1 && block.data.length >= block.rows * G, `block ${count}: ${block.rows} rows, ${block.data.length} values`);
    for (let r = 0; r < block.rows; r++) rows.push(Float64Array.from(block.data.subarray(r * G, (r + 1) * G)));
    count++;
  }
  assert.equal(rows.length, Q, `the blocks cover ${rows.length} of ${Q} queries`);
  return { rows, blocks: count };
}

test('streaming re-ranking equals the dense reference algorithm', async () => {
  await selectBackend('cpu');
  const rng = new Rng(41);
  for (const [Q, G, k1, k2] of [[6, 30, 5, 3], [10, 40, 8, 1], [4, 25, 20, 6]] as const) {
    const centres = Array.from({ length: 5 }, () => Float32Array.from({ length: 8 }, () => rng.normal()));
    const q = randomFeatures(rng, Q, 8, centres);
    const g = randomFeatures(rng, G, 8, centres);
    const want = denseReference(q, g, k1, k2, 0.3);
    // a tiny budget forces several blocks; each is copied as it comes (a stream may reuse its buffers)
    const blocked = collectRows(rerankedDistanceBlocks(q, g, { k1, k2, lambda: 0.3, metric: 'cosine', budgetFloats: 3 * (Q + G) }), Q, G);
    assert.ok(blocked.blocks > 1, `Q${Q}: the small budget gave ${blocked.blocks} block(s)`);
    const whole = collectRows(rerankedDistanceBlocks(q, g, { k1, k2, lambda: 0.3, metric: 'cosine' }), Q, G);
    assert.equal(whole.blocks, 1);
    assert.deepEqual(blocked.rows, whole.rows, 'the blocked stream equals the unblocked computation');
    for (let i = 0; i < Q; i++) {
      for (let j = 0; j < G; j++) {
        const a = blocked.rows[i]![j]!;
        const b = want[i]![j]!;
        assert.ok(Math.abs(a - b) < 1e-5, `Q${Q} G${G} k1 ${k1} k2 ${k2}: query ${i} gallery ${j}: ${a} vs ${b}`);
      }
    }
  }
});
