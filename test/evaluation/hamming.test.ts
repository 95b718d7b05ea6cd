/**
 * Hamming ranking: distances of every kernel path (native AVX-512 VPOPCNTDQ / POPCNT / portable where
 * they run here, and JS) against a BigInt reference, and mAP / CMC of a hand-computed case with ties.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RankAccumulator } from '../../src/evaluation/rank.js';
import { PulError, Rng, evaluateCodes, hammingDistanceBlocks, nativeHammingPaths, packSigns, featureMatrix, selectBackend, type HammingPath, type PackedCodes } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';

function randomCodes(rng: Rng, rows: number, bits: number): PackedCodes {
  return packSigns(featureMatrix(rows, bits, Float32Array.from({ length: rows * bits }, () => rng.normal())));
}

function reference(q: PackedCodes, g: PackedCodes): Float32Array {
  const out = new Float32Array(q.rows * g.rows);
  for (let i = 0; i < q.rows; i++)
    for (let j = 0; j < g.rows; j++) {
      let d = 0;
      for (let w = 0; w < q.words; w++) {
        let x = q.data[i * q.words + w]! ^ g.data[j * g.words + w]!;
        for (; x; x &= x - 1n) d++;
      }
      out[i * g.rows + j] = d;
    }
  return out;
}

function distances(q: PackedCodes, g: PackedCodes, path: HammingPath, budgetFloats?: number): Float32Array {
  const out = new Float32Array(q.rows * g.rows);
  for (const block of hammingDistanceBlocks(q, g, { path, ...(budgetFloats ? { budgetFloats } : {}) })) out.set(block.data, block.first * g.rows);
  return out;
}

test('every Hamming path gives the reference distances (1, 2, 16 words; gallery sizes off the 8-row vectors; blocks)', async () => {
  await selectBackend('wasm'); // loads the native addon when it is built
  const paths: HammingPath[] = ['js', ...nativeHammingPaths()];
  if (process.env['PUL_NATIVE'] !== '0') assert.ok(paths.includes('portable'), `native addon loaded: paths ${paths.join(', ')}`);
  const rng = new Rng(17);
  for (const [nq, ng, bits] of [[3, 37, 64], [17, 9, 128], [5, 21, 1024], [2, 8, 8], [4, 13, 72]] as const) {
    const q = randomCodes(rng, nq, bits);
    const g = randomCodes(rng, ng, bits);
    const want = reference(q, g);
    for (const p of [...paths, 'auto' as const]) {
      assert.deepEqual([...distances(q, g, p)], [...want], `${nq}×${ng}×${bits} bits, path ${p}`);
      assert.deepEqual([...distances(q, g, p, 2 * ng)], [...want], `${nq}×${ng}×${bits} bits, path ${p}, blocks of 2 queries`);
    }
  }
  if (!paths.includes('avx512')) {
    assert.throws(() => [...hammingDistanceBlocks(randomCodes(rng, 1, 64), randomCodes(rng, 1, 64), { path: 'avx512' })], (e) => e instanceof PulError && /"avx512" does not run here/.test(e.message));
  }
});

test('mAP and CMC by Hamming distance on a hand-computed case; ties go to the lower gallery index', async () => {
  await selectBackend('wasm');
  // 8-bit codes from ±1 features: bit j set where value j > 0
  const code = (byte: number) => Array.from({ length: 8 }, (_, j) => ((byte >> j) & 1 ? 1 : -1));
  const gallery = packSigns(featureMatrix(4, 8, Float32Array.from([0b11, 0b1, 0b111, 0b11].flatMap(code))));
  const query = packSigns(featureMatrix(2, 8, Float32Array.from([0x00, 0xff].flatMap(code))));
  const gIndex = [{ path: 'g0', pid: 2, camid: 2 }, { path: 'g1', pid: 1, camid: 2 }, { path: 'g2', pid: 1, camid: 2 }, { path: 'g3', pid: 1, camid: 2 }];
  const qIndex = [{ path: 'q0', pid: 1, camid: 1 }, { path: 'q1', pid: 2, camid: 1 }];
  // q0 (00000000): g0 2, g1 1, g2 3, g3 2 → g1 ✓, g0 ✗ (tie with g3, lower index first), g3 ✓, g2 ✓: AP = (1 + 2/3 + 3/4) / 3 = 29/36
  // q1 (11111111): g0 6, g1 7, g2 5, g3 6 → g2 ✗, g0 ✓ (tie with g3): AP = 1/2; mAP = (29/36 + 1/2) / 2 = 47/72
  for (const path of ['js', ...nativeHammingPaths()] as HammingPath[]) {
    const r = evaluateCodes({ codes: query, index: qIndex }, { codes: gallery, index: gIndex }, { ranks: [1, 2], path });
    assertClose([r.mAP, ...r.cmc], [47 / 72, 0.5, 1], { label: `path ${path}` });
    // mINP: q0's last match at rank 4 (3/4), q1's at rank 2 (1/2)
    assertClose([r.mINP], [(3 / 4 + 1 / 2) / 2]);
  }
  const other = packSigns(featureMatrix(2, 16));
  assert.throws(() => evaluateCodes({ codes: other, index: qIndex }, { codes: gallery, index: gIndex }), (e) => e instanceof PulError && e.code === 'features.mismatch' && /16-bit codes/.test(e.message));
});

test('ranking by counting (addQueryCounts) equals the search (addQuery) on tied whole-number distances, with junk, distractors and same-camera items', () => {
  const rng = new Rng(23);
  const G = 300;
  const gallery = { pids: Int32Array.from({ length: G }, () => rng.int(12) - 1), camids: Int32Array.from({ length: G }, () => rng.int(3)) };
  for (const ap of ['standard', 'trapezoid'] as const) {
    for (const removeSameCamera of [true, false]) {
      const search = new RankAccumulator(gallery, { ranks: [1, 3, 10], ap, removeSameCamera });
      const counting = new RankAccumulator(gallery, { ranks: [1, 3, 10], ap, removeSameCamera });
      for (let q = 0; q < 60; q++) {
        const maxDistance = [8, 64, 3][q % 3]!;
        const distances = Float32Array.from({ length: G }, () => rng.int(maxDistance + 1));
        const pid = rng.int(13) - 1;
        const camid = rng.int(3);
        search.addQuery(q, distances, pid, camid);
        counting.addQueryCounts(q, distances, maxDistance, pid, camid);
      }
      const [a, b] = [search.report(), counting.report()];
      assert.ok(a.validQueries > 30 && a.skippedQueries > 0, `${a.validQueries} valid, ${a.skippedQueries} skipped`);
      assert.deepEqual({ ...b, mAP: 0, mINP: 0 }, { ...a, mAP: 0, mINP: 0 });
      assertClose([b.mAP, b.mINP], [a.mAP, a.mINP], { atol: 1e-12, rtol: 0, label: `${ap}, removeSameCamera ${removeSameCamera}` });
    }
  }
});

test('native fused ranking (distances + counting per query) equals the JS ranking on every path', async () => {
  await selectBackend('wasm');
  const rng = new Rng(29);
  for (const bits of [8, 64, 72]) {
    const nq = 40;
    const ng = 150;
    const label = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `${i}`, pid: rng.int(10) - 1, camid: rng.int(3) }));
    const query = { codes: randomCodes(rng, nq, bits), index: label(nq) };
    const gallery = { codes: randomCodes(rng, ng, bits), index: label(ng) };
    for (const removeSameCamera of [true, false]) {
      const want = evaluateCodes(query, gallery, { ranks: [1, 5], removeSameCamera, path: 'js' });
      assert.ok(want.validQueries > 10 && want.skippedQueries > 0);
      for (const path of nativeHammingPaths()) {
        assert.deepEqual(evaluateCodes(query, gallery, { ranks: [1, 5], removeSameCamera, path }), want, `${bits} bits, path ${path}, removeSameCamera ${removeSameCamera}`);
      }
    }
  }
});
