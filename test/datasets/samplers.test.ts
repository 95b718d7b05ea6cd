/**
 * The training samplers: what each epoch holds, repeatability from (seed, epoch), and each weighted
 * sampler's distribution — counts over many draws against the expected frequencies, tolerance stated.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSampler, drawInverseFrequency, isPulError, Rng, type SamplerOptions } from '../../src/index.js';

const FLAT: SamplerOptions = { structure: 'epoch', batchSize: 4, p: 2, k: 2, seed: 7 };
const counts = (order: readonly number[], n: number): number[] => order.reduce((c, i) => ((c[i] = c[i]! + 1), c), new Array<number>(n).fill(0));

describe('samplers', () => {
  it('epoch: every image once per epoch, the same order for the same (seed, epoch)', () => {
    const s = createSampler('epoch', new Int32Array(10), FLAT);
    assert.equal(s.stepsPerEpoch, 2);
    const order = s.order(3, new Rng(5));
    assert.deepEqual([...order].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(s.order(3, new Rng(5)), order);
    assert.notDeepEqual(s.order(3, new Rng(6)), order);
  });

  it('pk: P distinct identities × K images per batch, identities with one image never drawn', () => {
    // identities 0..5 with 3 images each, identity 9 with one
    const labels = Int32Array.from([...Array.from({ length: 18 }, (_, i) => Math.floor(i / 3)), 9]);
    const s = createSampler('pk', labels, { ...FLAT, structure: 'pk', p: 3, k: 2 });
    assert.equal(s.batchSize, 6);
    assert.equal(s.stepsPerEpoch, 2);
    const order = s.order(0, new Rng(1));
    assert.equal(order.length, 12);
    for (let b = 0; b < 2; b++) {
      const batch = order.slice(b * 6, b * 6 + 6).map((i) => labels[i]!);
      assert.equal(new Set(batch).size, 3);
      for (const id of new Set(batch)) assert.equal(batch.filter((y) => y === id).length, 2);
    }
    assert.ok(!order.includes(18), 'the single-image identity was drawn');
    // every identity once per epoch
    assert.deepEqual([...new Set(order.map((i) => labels[i]!))].sort(), [0, 1, 2, 3, 4, 5]);
    // 6 identities × 4 images in chunks of K=2: an epoch of 4 batches visits every image exactly once
    const even = Int32Array.from({ length: 24 }, (_, i) => i % 6);
    const all = createSampler('pk', even, { ...FLAT, structure: 'pk', p: 3, k: 2 });
    assert.equal(all.stepsPerEpoch, 4);
    for (const e of [0, 1, 2]) assert.deepEqual([...all.order(e, new Rng(e))].sort((a, b) => a - b), Array.from({ length: 24 }, (_, i) => i));
  });

  it('pk: fewer identities with 2 images than P is a named data error', () => {
    const labels = Int32Array.from([0, 0, 1, 2, 3]);
    assert.throws(
      () => createSampler('pk', labels, { ...FLAT, structure: 'pk', p: 2, k: 2, option: '--pk' }),
      (e) => isPulError(e) && e.code === 'dataset.tooFewImages' && e.where?.option === '--pk' && /P=2 identities with 2 images or more; the training set has 1 \(3 of the 4 have a single image\)/.test(e.message),
    );
    assert.throws(() => createSampler('smart', labels, FLAT), (e) => isPulError(e) && e.where?.option === '--sampler' && /smartMiningBatchSource/.test(e.message));
  });

  it('inverse-frequency: one draw has P(i) = (T − c_i)/((n − 1)·T), within ±0.005 over 200 000 draws', () => {
    // n = 4, earlier draws c = [3, 2, 1, 0], T = 6 → P = [3, 4, 5, 6]/18
    const history = [0, 0, 0, 1, 1, 2];
    const rng = new Rng(11);
    const draws = 200_000;
    const c = new Array<number>(4).fill(0);
    for (let d = 0; d < draws; d++) c[drawInverseFrequency(history, 4, rng)]!++;
    const expected = [3, 4, 5, 6].map((v) => v / 18);
    // σ of a share ≤ √(0.25/200 000) ≈ 0.0011: ±0.005 is > 4σ
    c.forEach((v, i) => assert.ok(Math.abs(v / draws - expected[i]!) < 0.005, `sample ${i}: ${v / draws} vs ${expected[i]}`));
    assert.equal(drawInverseFrequency([], 1, rng), 0);
  });

  it('inverse-frequency: uniform in the long run (±4σ of a multinomial), and an epoch replays from (seed, epoch) alone', () => {
    const n = 10;
    const s = createSampler('inverse-frequency', new Int32Array(n), { ...FLAT, batchSize: 5 });
    const all: number[] = [];
    for (let e = 0; e < 300; e++) all.push(...s.order(e, new Rng(e)));
    assert.equal(all.length, 3000);
    const sigma = Math.sqrt(3000 * 0.1 * 0.9);
    for (const [i, v] of counts(all, n).entries()) assert.ok(Math.abs(v - 300) < 4 * sigma, `sample ${i} drawn ${v} times of 3000`);
    // a fresh sampler (a resumed run) asked for epoch 7 replays epochs 0–6 first: the same order
    const fresh = createSampler('inverse-frequency', new Int32Array(n), { ...FLAT, batchSize: 5 });
    assert.deepEqual(fresh.order(7, new Rng(0)), all.slice(70, 80));
    assert.deepEqual(fresh.order(7, new Rng(0)), all.slice(70, 80));
    assert.deepEqual(fresh.order(2, new Rng(0)), all.slice(20, 30));
  });

  it('inverse-frequency P×K: identities distinct in a batch, counts even across identities (±4σ)', () => {
    const labels = Int32Array.from({ length: 24 }, (_, i) => i % 6); // 6 identities × 4 images
    const s = createSampler('inverse-frequency', labels, { ...FLAT, structure: 'pk', p: 2, k: 2 });
    assert.equal(s.batchSize, 4);
    const all: number[] = [];
    for (let e = 0; e < 200; e++) {
      const order = s.order(e, new Rng(e));
      for (let b = 0; b < order.length; b += 4) {
        const ids = order.slice(b, b + 4).map((i) => labels[i]!);
        assert.equal(new Set(ids).size, 2);
        assert.equal(new Set(order.slice(b, b + 4)).size, 4, 'an image twice in one identity of a batch');
      }
      all.push(...order);
    }
    const perId = counts(all.map((i) => labels[i]!), 6);
    const total = all.length; // 200 epochs × 3 batches × 4
    const sigma = Math.sqrt(total * (1 / 6) * (5 / 6));
    for (const [id, v] of perId.entries()) assert.ok(Math.abs(v - total / 6) < 4 * sigma, `identity ${id}: ${v} of ${total}`);
  });

  it('loss-guided: samples whose loss stays zero are drawn at the weight 0.1 + 0.9·score (±0.01 over 20 000 draws); the state restores the order', () => {
    const n = 10;
    const s = createSampler('loss-guided', new Int32Array(n), { ...FLAT, batchSize: 10 });
    assert.ok(typeof s.feedback === 'function' && typeof s.state === 'function' && typeof s.restore === 'function');
    // samples 0–4 give zero loss six times (score 0.5^6), 5–9 a positive loss (score stays 1)
    for (let t = 0; t < 6; t++) s.feedback([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [0, 0, 0, 0, 0, 0.2, 0.1, 0.3, 0.5, 0.05]);
    const quiet = 0.1 + 0.9 * 0.5 ** 6;
    const expectedQuiet = (5 * quiet) / (5 * quiet + 5);
    const all: number[] = [];
    for (let e = 0; e < 2000; e++) all.push(...s.order(e, new Rng(e)));
    const share = counts(all, n).slice(0, 5).reduce((a, b) => a + b, 0) / all.length;
    // σ ≈ √(0.1·0.9/20 000) ≈ 0.0021
    assert.ok(Math.abs(share - expectedQuiet) < 0.01, `zero-loss samples drew ${share}, expected ${expectedQuiet}`);
    const again = createSampler('loss-guided', new Int32Array(n), { ...FLAT, batchSize: 10 });
    again.restore!(s.state());
    assert.deepEqual(again.order(4, new Rng(4)), s.order(4, new Rng(4)));
    assert.throws(() => again.restore!(new Float32Array(3)), (e) => isPulError(e) && e.code === 'checkpoint.mismatch');
  });

  it('loss-guided P×K: an identity weighs the mean of its images (±0.01 over 6 000 identity draws)', () => {
    const labels = Int32Array.from({ length: 12 }, (_, i) => i % 4); // 4 identities × 3 images
    const s = createSampler('loss-guided', labels, { ...FLAT, structure: 'pk', p: 1, k: 2 });
    // identity 0's images all give zero loss many times: weight → 0.1; the others stay at 1
    for (let t = 0; t < 30; t++) s.feedback!([0, 4, 8], [0, 0, 0]);
    const all: number[] = [];
    for (let e = 0; e < 1500; e++) all.push(...s.order(e, new Rng(e)));
    const ids = all.filter((_, j) => j % 2 === 0).map((i) => labels[i]!);
    const share0 = ids.filter((y) => y === 0).length / ids.length;
    const expected = 0.1 / (0.1 + 3);
    assert.ok(Math.abs(share0 - expected) < 0.01, `identity 0 drawn ${share0}, expected ${expected}`);
  });
});
