import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PulError, Rng, augmentImage, validateAugment } from '../../src/index.js';
import { affineEdge, flipHorizontal, padCrop, randomErase } from '../../src/datasets/augment.js';
import { identitySampler, shuffledOrder } from '../../src/datasets/samplers.js';
import { assertClose } from '../helpers/assert-close.js';

describe('augmentation by hand', () => {
  it('flips rows, keeping channels together', () => {
    const img = Float32Array.from([1, 10, 2, 20, 3, 30]); // 1×3×2
    flipHorizontal(img, 1, 3, 2);
    assert.deepEqual([...img], [3, 30, 2, 20, 1, 10]);
  });

  it('pad + crop moves content and fills with 0', () => {
    const img = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2×3×1
    padCrop(img, 2, 3, 1, 0, 1, new Float32Array(6));
    assert.deepEqual([...img], [0, 1, 2, 0, 4, 5]);
    padCrop(img, 2, 3, 1, -1, 0, new Float32Array(6));
    assert.deepEqual([...img], [0, 4, 5, 0, 0, 0]);
  });

  it('shifts repeat the edge pixel; a 180° rotation mirrors a row', () => {
    const img = Float32Array.from([1, 2, 3]);
    affineEdge(img, 1, 3, 1, 0, 1, 0, new Float32Array(3));
    assert.deepEqual([...img], [1, 1, 2]);
    const row = Float32Array.from([1, 2, 3]);
    affineEdge(row, 1, 3, 1, Math.PI, 0, 0, new Float32Array(3));
    assertClose(row, [3, 2, 1], { atol: 1e-6 });
    const half = Float32Array.from([0, 10]);
    affineEdge(half, 1, 2, 1, 0, 0.5, 0, new Float32Array(2));
    assertClose(half, [0, 5], { atol: 1e-6, label: 'bilinear half-pixel shift' });
  });

  it('random erasing overwrites one rectangle of 2-40 % of the image', () => {
    const img = new Float32Array(32 * 16).fill(100);
    randomErase(img, 32, 16, 1, new Rng(3));
    const erased = img.filter((v) => v !== 100).length;
    assert.ok(erased >= 0.02 * 512 * 0.5 && erased <= 0.4 * 512 * 1.2, `erased ${erased}`);
  });

  it('is a pure function of the seed', () => {
    const base = Float32Array.from({ length: 16 * 8 * 3 }, (_, i) => Math.sin(i));
    const run = (seed: number): Float32Array => {
      const img = base.slice();
      augmentImage(img, 0, [16, 8, 3], { flip: true, padCrop: 2, erasing: 1, rotation: 20, shift: 0.2 }, new Rng(seed), new Float32Array(base.length));
      return img;
    };
    assert.deepEqual(run(1), run(1));
    assert.notDeepEqual(run(1), run(2));
  });

  it('rejects out-of-range options', () => {
    assert.throws(() => validateAugment({ erasing: 1.5 }), (e: unknown) => e instanceof PulError && e.code === 'option.outOfRange' && /augment\.erasing=1\.5/.test(e.message));
    assert.throws(() => validateAugment({ rotation: -1 }), /augment\.rotation=-1/);
  });
});

describe('samplers', () => {
  it('shuffles a permutation, reproducibly', () => {
    const a = shuffledOrder(10, new Rng(5));
    assert.deepEqual([...a].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(shuffledOrder(10, new Rng(5)), a);
  });

  it('draws P identities × K images, never unlabelled ones', () => {
    const labels = [0, 0, 0, 1, 1, 2, -1, 2, 2, 2, 3, null];
    const order = identitySampler(labels, { p: 2, k: 2 }, new Rng(1));
    assert.equal(order.length, 8); // 4 identities → 2 batches of 2×2
    for (let b = 0; b < 2; b++) {
      const ls = order.slice(4 * b, 4 * b + 4).map((i) => labels[i]);
      assert.equal(ls[0], ls[1]);
      assert.equal(ls[2], ls[3]);
      assert.notEqual(ls[0], ls[2]);
    }
    assert.ok(!order.includes(6) && !order.includes(11));
    // chunks of K=2: identity 2 has two (4 images), 0, 1 and 3 one each → 2 batches, identity 2 in both
    assert.ok([0, 1].every((b) => order.slice(4 * b, 4 * b + 4).some((i) => labels[i] === 2)));
    const once = order.filter((i) => i !== 10); // identity 3's one image fills its chunk twice
    assert.equal(new Set(once).size, once.length, 'an image twice in an epoch');
    const withReplacement = identitySampler([5, 6], { p: 2, k: 3 }, new Rng(1));
    assert.deepEqual([...withReplacement].sort(), [0, 0, 0, 1, 1, 1]);
    assert.throws(() => identitySampler([1, 1], { p: 2, k: 2 }, new Rng(1)), /P=2 identities per batch but only 1/);
  });
});
