/**
 * Hamming ranking: distances of every kernel path (native AVX-512 VPOPCNTDQ / POPCNT / portable where
 * they run here, and JS) against a BigInt reference, and mAP / CMC of a hand-computed case with ties.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
